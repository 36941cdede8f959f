"""deploy/kubernetes: valid against the Kubernetes schema (offline), and the shape we promise.

No cluster runs here, so `kubernetes-validate` checks every document against the
OpenAPI schema of the oldest and newest Kubernetes we support, strictly (an unknown
or misspelled field fails, as `kubectl apply --validate=strict` would).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from core.keys import generate_keys
from core.settings import Settings
from tests.deploy.manifests import (
    KUSTOMIZATION,
    documented_variables,
    of_kind,
    pod_specs,
    resource_files,
    resources,
)
from ticketq.cli import build_parser

VERSIONS = ("1.30.0", "1.37.0")
SECRET = "ticketq"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", resource_files(), ids=lambda p: p.name)
def test_every_manifest_validates_against_the_kubernetes_schema(path: Path, version: str) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents, f"{path.name} holds no resource"
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_validator_refuses_a_misspelled_field() -> None:
    """The check above can fail: a typo in a probe is caught, not applied as nothing."""
    gateway = copy.deepcopy(of_kind("Deployment")["ticketq-gateway"])
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    probe = container["readinessProbe"]["httpGet"]
    probe["pth"] = probe.pop("path")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(gateway, VERSIONS[-1], strict=True)


def test_the_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load(KUSTOMIZATION.read_text())["resources"]
    assert sorted(listed) == [path.name for path in resource_files()]
    assert {image["name"] for image in yaml.safe_load(KUSTOMIZATION.read_text())["images"]} == {
        c["image"] for spec in pod_specs().values() for c in spec["containers"]}


def test_the_workloads_run_real_cli_commands() -> None:
    commands = {name: spec["containers"][0]["command"] for name, spec in pod_specs().items()}
    assert commands["ticketq-gateway"][:2] == ["ticketq", "serve"]
    assert commands["ticketq-worker"] == ["ticketq", "worker"]
    assert commands["ticketq-migrate"] == ["ticketq", "migrate"]
    for command in commands.values():
        build_parser().parse_args(command[1:])  # exits (fails the test) on a renamed command


def test_every_container_is_locked_down_with_resources() -> None:
    for name, spec in pod_specs().items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: a read-only root needs a writable /tmp"


def test_the_gateway_is_probed_on_healthz_and_scraped() -> None:
    gateway = of_kind("Deployment")["ticketq-gateway"]["spec"]["template"]
    container = gateway["spec"]["containers"][0]
    port = container["ports"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert "livenessProbe" in container
    annotations = gateway["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == port["containerPort"]


def test_autoscaler_and_disruption_budgets_select_the_workloads() -> None:
    deployments = of_kind("Deployment")
    hpa = of_kind("HorizontalPodAutoscaler")["ticketq-gateway"]["spec"]
    assert hpa["scaleTargetRef"]["name"] in deployments
    assert hpa["minReplicas"] >= 2 <= hpa["maxReplicas"]
    budgets = of_kind("PodDisruptionBudget")
    assert set(budgets) == {"ticketq-gateway", "ticketq-worker"}
    for name, budget in budgets.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = of_kind("Service")["ticketq-gateway"]["spec"]
    assert service["selector"].items() <= (
        deployments["ticketq-gateway"]["spec"]["template"]["metadata"]["labels"].items())


def secret_keys(spec: dict) -> set[str]:
    return {e["valueFrom"]["secretKeyRef"]["key"] for c in spec["containers"]
            for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}


def test_settings_come_from_the_configmap_and_named_secrets_only() -> None:
    """No value of a secret is committed: no Secret object, only references by name."""
    assert "Secret" not in {r["kind"] for r in resources()}
    documented = documented_variables()
    config = of_kind("ConfigMap")["ticketq"]["data"]
    assert set(config) <= documented, set(config) - documented
    for name, spec in pod_specs().items():
        keys = secret_keys(spec)
        assert keys <= documented, (name, keys - documented)
        assert {"TICKETQ_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY",
                "STRIPE_WEBHOOK_SECRET"} <= keys, name
        assert not keys & set(config), f"{name}: a setting is both in the ConfigMap and a Secret"


def test_the_pods_environment_passes_the_production_checks(tmp_path: Path) -> None:
    """ConfigMap + the Secret's keys, with stand-in values, is a configuration that starts."""
    generate_keys(tmp_path)
    config = dict(of_kind("ConfigMap")["ticketq"]["data"], TICKETQ_TICKET_KEY_DIR=str(tmp_path))
    stand_ins = {
        "TICKETQ_SECRET_KEY": "q3V9xK2mZ7pL0wR8tY4uN6bC1dF5gH_jA-sE9iO3kM7nB2vX4zQ8lP0rT6yU1wE5",
        "DATABASE_URL": "postgresql://ticketq@postgres.example:5432/ticketq",
        "REDIS_URL": "redis://redis-cluster.example:6379/0",
        "STRIPE_API_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "SMTP_URL": "smtp://mail.example:587",
    }
    settings = Settings.from_env({**config, **stand_ins})
    settings.check_production()
    assert settings.redis_cluster is True
    assert settings.is_production


def test_the_ticket_key_is_mounted_where_the_settings_look() -> None:
    key_dir = of_kind("ConfigMap")["ticketq"]["data"]["TICKETQ_TICKET_KEY_DIR"]
    for name in ("ticketq-gateway", "ticketq-worker"):
        spec = pod_specs()[name]
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert mounts["ticket-key"] == key_dir, name
        assert volumes["ticket-key"]["secret"]["secretName"] == "ticketq-ticket-key", name


def test_docs_create_exactly_the_secrets_the_pods_read() -> None:
    """docs/deploy.md's `kubectl create secret` lines stay in step with the manifests."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    documented_keys = set(re.findall(r"--from-literal=([A-Z_]+)=", text))
    read = {key for spec in pod_specs().values() for key in secret_keys(spec)}
    assert documented_keys == read
    secret_names = {v["secret"]["secretName"] for spec in pod_specs().values()
                    for v in spec["volumes"] if "secret" in v}
    secret_names |= {e["valueFrom"]["secretKeyRef"]["name"] for spec in pod_specs().values()
                     for c in spec["containers"] for e in c.get("env", [])
                     if "secretKeyRef" in e.get("valueFrom", {})}
    created = set(re.findall(r"create secret generic ([a-z-]+)", text))
    assert created == secret_names == {SECRET, "ticketq-ticket-key"}
