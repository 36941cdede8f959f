"""`ticketq demo --cluster` (issue 14): the demo in production's shape, on loopback.

An embedded 3-master Redis Cluster (core.embedded, the redis-server the tests and
`ticketq simulate -- --cluster` use), Postgres, localstripe and the mail catcher as
`make demo` has them (ticketq.demo.prepare_demo), M workers competing for each drop's
admission lease, and N gateway processes. Fans reach the gateways through HAProxy
(loadtest.load_balancer: health checks on /healthz, WebSockets tunnelled) on the demo's
port, or, with `--balancer dns` or without HAProxy installed, by opening any gateway's
own address, as DNS round robin would spread them; the banner lists every address.

The Cluster is thrown away when the demo stops (its nodes.conf would pin the old ports);
the demo seeds a fresh drop on every start, and Postgres keeps the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from core.embedded import EmbeddedServices, discard_redis_cluster, start_redis_cluster
from core.settings import Settings, SettingsError
from core.supervisor import Child, Supervisor
from loadtest import load_balancer
from loadtest.launch import LOOPBACK, start_gateway, start_worker
from ticketq.demo import SALES_OPEN_IN, DemoStack, prepare_demo

BALANCERS = ("haproxy", "dns")
MASTERS = 3


@dataclass(frozen=True)
class ClusterShape:
    gateways: int = 3
    workers: int = 2
    # None: HAProxy when it is installed, else the gateways' own addresses ("dns").
    balancer: str | None = None

    def chosen_balancer(self) -> str:
        if self.balancer:
            return self.balancer
        return "haproxy" if load_balancer.available() else "dns"


def check_cluster_settings(settings: Settings, shape: ClusterShape) -> None:
    """Raise SettingsError (the CLI's "refusing to start") for a shape that cannot run."""
    problems = []
    if settings.redis_url and not settings.redis_cluster:
        problems.append("--cluster starts its own Redis Cluster: unset REDIS_URL, or set "
                        "REDIS_CLUSTER=1 to use the Cluster it names")
    if shape.balancer == "haproxy" and not load_balancer.available():
        problems.append(f"--balancer haproxy needs {load_balancer.HAPROXY} "
                        "(apt-get install haproxy), or use --balancer dns")
    if problems:
        raise SettingsError(problems)


@contextmanager
def cluster_demo_stack(
    settings: Settings, shape: ClusterShape, *, port: int | None = None,
    sales_open_in: timedelta = SALES_OPEN_IN,
) -> Iterator[DemoStack]:
    """The demo in production's shape until the block ends; then every process it started
    stops, the Cluster is discarded, and Postgres stops if this demo started it.

    Raises ChildFailed when a process does not come up (its log tail attached)."""
    port = port or settings.port
    folder = settings.home / "redis-cluster"
    embedded = EmbeddedServices(settings.home)
    postgres_was = embedded.status()["postgres"]
    own_cluster = not settings.redis_url
    own_postgres = not settings.database_url and postgres_was == "stopped"
    try:
        if own_cluster:
            discard_redis_cluster(folder, MASTERS)  # a demo killed before its cleanup
            first_port = start_redis_cluster(folder, MASTERS)[0]
            redis_url = f"redis://{LOOPBACK}:{first_port}/0"
        else:
            redis_url = settings.redis_url or ""
        database_url = settings.database_url or embedded.start(want_redis=False)["DATABASE_URL"]
        settings = settings.replace(
            redis_url=redis_url, database_url=database_url, redis_cluster=True)
        supervisor = Supervisor(settings.home / "logs")
        try:
            seeded, env = prepare_demo(
                settings, supervisor, front_port=port, sales_open_in=sales_open_in)
            env["REDIS_CLUSTER"] = "1"
            for index in range(shape.workers):
                start_worker(supervisor, env, name=f"worker-{index}")
            balancer = shape.chosen_balancer()
            gateways = _start_gateways(supervisor, env, settings, shape, balancer, port)
            if balancer == "haproxy":
                pairs = [(g.name, g.url.removeprefix("http://")) for g in gateways]
                front = load_balancer.start_haproxy(
                    supervisor, pairs, settings.home, host=settings.host, port=port)
            else:
                front = gateways[0]
            lines = _shape_lines(shape, balancer, front, gateways, settings)
            yield DemoStack(front.url, seeded, supervisor, tuple(lines))
        finally:
            supervisor.stop_all()
    finally:
        if own_cluster:
            discard_redis_cluster(folder, MASTERS)
        if own_postgres:
            embedded.stop()


def _start_gateways(
    supervisor: Supervisor, env: dict[str, str], settings: Settings, shape: ClusterShape,
    balancer: str, port: int,
) -> list[Child]:
    """Behind HAProxy the gateways listen on loopback only (the balancer has the demo's
    port); without one, fans reach them directly: gateway-0 takes the demo's port."""
    if balancer == "haproxy":
        return [start_gateway(supervisor, env, name=f"gateway-{i}", options=())
                for i in range(shape.gateways)]
    return [start_gateway(supervisor, env, name=f"gateway-{i}", host=settings.host,
                          port=port if i == 0 else None, options=())
            for i in range(shape.gateways)]


def _shape_lines(shape: ClusterShape, balancer: str, front: Child, gateways: list[Child],
                 settings: Settings) -> list[str]:
    redis = settings.redis_url or ""
    head = (f"Production shape: a {MASTERS}-master Redis Cluster ({redis}), "
            f"{_count(len(gateways), 'gateway')}, {_count(shape.workers, 'worker')}.")
    gateway_lines = [f"  {g.name:<18} {g.url}" for g in gateways]
    if balancer == "haproxy":
        return [head, f"  {'HAProxy':<18} {front.url}   (health checks on /healthz, "
                "WebSockets passed through; the addresses above)", *gateway_lines]
    why = ("--balancer dns" if shape.balancer == "dns"
           else "HAProxy is not installed (apt-get install haproxy)")
    return [head, f"No load balancer ({why}): open any gateway, as DNS round robin would "
            "spread fans over them (the addresses above are gateway-0's):", *gateway_lines]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
