"""docker-compose.yml and its Cluster shape, docker-compose.cluster.yml, merged as Compose does.

No Docker engine runs here; the files are parsed and merged (mappings merge key by key,
lists and `!override` replace, as the Compose specification says) and the result is
checked against the settings (docs/configuration.md) and the Redis settings TicketQ needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.deploy.manifests import documented_variables

ROOT = Path(__file__).resolve().parents[2]
NODES = ("redis-node-1", "redis-node-2", "redis-node-3")


class Override(dict[str, Any]):
    """A mapping tagged `!override`: it replaces what it merges over."""


class ComposeLoader(yaml.SafeLoader):
    pass


ComposeLoader.add_constructor(
    "!override", lambda loader, node: Override(loader.construct_mapping(node, deep=True)))


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((ROOT / name).read_text(), Loader=ComposeLoader)
    return loaded


def merge(base: Any, over: Any) -> Any:
    if isinstance(over, Override) or not (isinstance(base, dict) and isinstance(over, dict)):
        return dict(over) if isinstance(over, Override) else over
    return {key: merge(base[key], over[key]) if key in base and key in over
            else over.get(key, base.get(key)) for key in {**base, **over}}


def cluster_shape() -> dict[str, Any]:
    return merge(load("docker-compose.yml"), load("docker-compose.cluster.yml"))


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_single_redis_keeps_aof_and_never_evicts() -> None:
    command = load("docker-compose.yml")["services"]["redis"]["command"]
    assert option(command, "--appendfsync") == "everysec"
    assert option(command, "--maxmemory-policy") == "noeviction"


def test_the_cluster_shape_runs_three_masters_with_aof_and_noeviction() -> None:
    services = cluster_shape()["services"]
    for node in NODES:
        command = services[node]["command"]
        assert option(command, "--cluster-enabled") == "yes", node
        assert option(command, "--appendonly") == "yes", node
        assert option(command, "--appendfsync") == "everysec", node
        assert option(command, "--maxmemory-policy") == "noeviction", node
        assert option(command, "--cluster-announce-hostname") == node
        assert services[node]["volumes"] == [f"{node}-data:/data"]
    create = services["redis-cluster-create"]["command"][0]
    assert "--cluster-replicas 0" in create
    assert all(f"getent hosts {node} " in create for node in NODES)


def test_the_cluster_shape_points_every_process_at_the_cluster() -> None:
    services = cluster_shape()["services"]
    documented = documented_variables()
    for name in ("gateway", "worker", "migrate"):
        environment = services[name]["environment"]
        assert set(environment) <= documented, (name, set(environment) - documented)
        assert environment["REDIS_URL"] == "redis://redis-node-1:6379"
        assert environment["REDIS_CLUSTER"] == "1"
        assert environment["TICKETQ_ENV"] == "production"  # the base environment stays
        depends = services[name]["depends_on"]
        assert "redis" not in depends, name
        assert depends["redis-cluster-create"]["condition"] == "service_completed_successfully"
    assert services["gateway"]["deploy"]["replicas"] == 2
    assert services["redis"]["profiles"] == ["single-redis"]


def test_the_merge_follows_compose() -> None:
    """The helper above merges the way the checks assume: maps merge, !override replaces."""
    base = {"a": {"x": 1, "y": 2}, "b": {"x": 1}, "c": [1, 2]}
    over = {"a": {"y": 3}, "b": Override({"z": 4}), "c": [5]}
    assert merge(base, over) == {"a": {"x": 1, "y": 3}, "b": {"z": 4}, "c": [5]}
