"""`ticketq demo --cluster` end to end: a 3-master Redis Cluster, two gateways behind
HAProxy, two workers; a fan signs in and joins through the balancer; SIGTERM stops all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from core.embedded import EmbeddedServices, free_port
from core.settings import Settings, SettingsError
from loadtest import load_balancer
from tests.support.api import Account, solved_challenge
from tests.support.waiting import eventually_sync
from ticketq import cli
from ticketq.demo import DEMO_PASSWORD
from ticketq.demo_cluster import ClusterShape, check_cluster_settings

TICKETQ = str(Path(sys.executable).parent / "ticketq")
HEALTHY = {"status": "ok", "redis": "ok", "postgres": "ok"}


def test_cluster_options_need_cluster_and_sane_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TICKETQ_HOME", str(tmp_path))
    assert cli.main(["demo", "--gateways", "2", "--balancer", "dns"]) == 2
    assert "--gateways, --balancer only with --cluster" in capsys.readouterr().err
    for count in ("0", "17", "two"):
        with pytest.raises(SystemExit) as refused:
            cli.main(["demo", "--cluster", "--workers", count])
        assert refused.value.code == 2
    assert "--workers" in capsys.readouterr().err
    # A plain Redis named by REDIS_URL cannot carry the cluster demo: refused before any start.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("REDIS_CLUSTER", raising=False)
    assert cli.main(["demo", "--cluster", "--balancer", "dns"]) == 2
    assert "REDIS_CLUSTER=1" in capsys.readouterr().err
    assert not (tmp_path / "redis-cluster").exists()


def test_without_haproxy_the_default_is_dns_and_asking_for_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_balancer, "available", lambda: False)
    assert ClusterShape().chosen_balancer() == "dns"
    assert ClusterShape(balancer="haproxy").chosen_balancer() == "haproxy"
    settings = Settings.from_env().replace(home=tmp_path, redis_url=None)
    check_cluster_settings(settings, ClusterShape())
    with pytest.raises(SettingsError, match="apt-get install haproxy"):
        check_cluster_settings(settings, ClusterShape(balancer="haproxy"))


def _processes_under(home: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        with_home = str(home) in " ".join(process.info["cmdline"] or [])
        if with_home and process.pid != os.getpid():
            found.append(process)
    return found


def _listening(port: int) -> bool:
    return any(c.laddr.port == port and c.status == psutil.CONN_LISTEN
               for c in psutil.net_connections("tcp"))


async def _fan_joins(base_url: str, drop_id: int) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        login = await client.post(
            "/api/auth/login", json={"email": "fan@ticketq.demo", "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        client.cookies.clear()  # bearer only: a sign-in cookie would need the CSRF token
        body = login.json()
        fan = Account(body["user"]["id"], "fan@ticketq.demo", DEMO_PASSWORD, body["token"])
        challenge = await solved_challenge(client, drop_id, fan)
        joined = await client.post(
            f"/api/drops/{drop_id}/queue", headers=fan.headers, json={"challenge": challenge})
        assert joined.status_code in {200, 201}, joined.text
        result: dict[str, object] = joined.json()
        return result


@pytest.mark.slow
@pytest.mark.skipif(not load_balancer.available(), reason="needs Debian's haproxy")
# The demo starts its own Cluster: a pass against borrowed servers would repeat it.
@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")),
                    reason="starts its own Redis Cluster; the embedded-servers pass covers it")
def test_cluster_demo_serves_through_haproxy_and_sigterm_stops_everything(
    tmp_path: Path,
) -> None:
    home = tmp_path / "demo-home"
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "REDIS_CLUSTER"}}
    env.update(TICKETQ_HOME=str(home), PORT=str(port))
    demo = subprocess.Popen(
        [TICKETQ, "demo", "--cluster", "--gateways", "2", "--workers", "2",
         "--balancer", "haproxy"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    try:

        def banner_line() -> bool:
            assert demo.stdout is not None
            line = demo.stdout.readline()
            assert line or demo.poll() is None, "".join(output)
            output.append(line)
            return "Ctrl-C stops everything" in line

        eventually_sync(banner_line, timeout_s=180, interval_s=0, message="the demo's banner")
        banner = "".join(output)
        front = f"http://127.0.0.1:{port}"
        assert re.search(rf"HAProxy\s+{front}\s", banner), banner
        assert "3-master Redis Cluster" in banner and "2 workers" in banner, banner
        gateways = dict(re.findall(r"(gateway-\d)\s+(http://\S+)", banner))
        assert sorted(gateways) == ["gateway-0", "gateway-1"], banner
        assert front not in gateways.values(), banner

        for url in (front, *gateways.values()):
            health = httpx.get(f"{url}/healthz", timeout=10)
            assert health.json() == HEALTHY, (url, health.text)
        # Round robin through HAProxy reaches both gateways (each answer names its server).
        served_by = {httpx.get(f"{front}/healthz", timeout=10).headers[
            load_balancer.GATEWAY_HEADER] for _ in range(6)}
        assert served_by == set(gateways), served_by

        drop_id = int(banner.split(f"{front}/drops/")[1].split()[0])
        joined = asyncio.run(_fan_joins(front, drop_id))
        assert joined, joined
        children = psutil.Process(demo.pid).children(recursive=True)
        # Gateways, workers, HAProxy, localstripe and the mail catcher at least.
        assert len(children) >= 2 + 2 + 3, children
        # The Cluster's nodes are daemonized (their titles do not name the home folder).
        nodes = sorted((home / "redis-cluster").glob("node*"))
        assert len(nodes) == 3, nodes
        node_pids = [int((node / "redis.pid").read_text()) for node in nodes]
        node_ports = [int((node / "port").read_text()) for node in nodes]
    finally:
        demo.send_signal(signal.SIGTERM)
        rest = demo.communicate(timeout=90)[0]
    assert demo.returncode == 0, rest
    assert "stopped." in rest
    assert EmbeddedServices(home).status() == {"redis": "stopped", "postgres": "stopped"}
    assert not (home / "redis-cluster").exists()
    eventually_sync(lambda: not _processes_under(home), timeout_s=15,
                    message=f"no process left running under {home}")
    eventually_sync(lambda: not any(child.is_running() for child in children), timeout_s=15,
                    message="every process the demo started stopped")
    eventually_sync(lambda: not any(psutil.pid_exists(pid) for pid in node_pids),
                    timeout_s=15, message=f"the Cluster's nodes {node_pids} stopped")
    ports = [port, *node_ports, *(int(url.rsplit(":", 1)[1]) for url in gateways.values())]
    eventually_sync(lambda: not any(_listening(p) for p in ports), timeout_s=15,
                    message=f"nothing listening on {ports}")
