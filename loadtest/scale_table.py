"""The scale curve's table: one row per crowd size, read from that step's report.json.

Every figure comes from a `ticketq simulate` report (loadtest/report.py builds it,
docs/loadtest.md explains its fields); this module only picks, divides and renders.
The number that matters is `cost_ratio`: a step's server CPU per fan per minute
divided by the first step's. A flat curve stays near 1.0. Every step is the same
drop, so part of each step's cost (admissions, purchases, the worker's ticks) does
not grow with the crowd: the marginal figures, this step's extra CPU and gateway
memory over the first step's divided by its extra fans (sockets), are what one
more waiting fan costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Processes that serve the drop. localstripe stands in for Stripe (someone else's
# servers in production), so its CPU is neither server nor load generator here.
SERVER_PROCESSES = ("gateway", "shop", "worker", "redis", "postgres")
LOAD_GENERATOR_PREFIX = "locust"
# A process family busier than this share of its cores is the side that saturated.
SATURATED_SHARE = 0.85


@dataclass(frozen=True)
class ScaleRow:
    fans: int
    join_p50_ms: float | None
    join_p99_ms: float | None
    tick_to_fan_lag_p99_ms: float | None
    server_cpu_s_per_fan_minute: float | None
    kib_per_socket: float | None
    peak_sockets: int
    admission_accuracy: float | None
    saturated: str
    load_before: float | None
    all_ok: bool
    server_cores: float = 0.0
    gateway_growth_kib: int | None = None
    cost_ratio: float | None = None
    marginal_cpu_s_per_fan_minute: float | None = None
    marginal_kib_per_socket: float | None = None


def server_cores(cores_busy: dict[str, float]) -> float:
    return sum(cores_busy.get(name, 0.0) for name in SERVER_PROCESSES)


def load_generator_cores(cores_busy: dict[str, float]) -> float:
    return sum(v for name, v in cores_busy.items() if name.startswith(LOAD_GENERATOR_PREFIX))


def saturated_side(run: dict[str, Any], cpu_count: int) -> str:
    """Which side ran out of CPU: the gateway (its processes' cores), the load generator
    (Locust's processes, or Locust's own warning), the shared machine, or neither.

    Read from the busiest seconds of the run (`peak_cores_busy`, loadtest.stack.CpuWatch)
    when the report has them: a spike saturates for seconds, and the run's average, which
    older reports carry only, hides that."""
    peak = run.get("peak_cores_busy") or {}
    busy: dict[str, float] = peak or run.get("cpu_cores_busy") or {}
    when = "at peak" if peak else "on average"
    gateway_share = _gateway_share(busy, max(1, int(run.get("gateway_workers") or 1)))
    # A distributed run's master only hands out users; its workers do the load.
    locust_cores = max(1, int(run.get("locust_workers") or 1))
    locust_share = load_generator_cores(busy) / locust_cores
    sides = []
    if gateway_share >= SATURATED_SHARE:
        sides.append(f"server (gateway {gateway_share:.0%} of its cores {when})")
    shop_share = busy.get("shop", 0.0) / max(1, int(run.get("shop_workers") or 1))
    if shop_share >= SATURATED_SHARE:  # the checkout's own gateway (simulate --shop-workers)
        sides.append(f"server (shop {shop_share:.0%} of its cores {when})")
    if locust_share >= SATURATED_SHARE or run.get("load_generator_saturated"):
        sides.append(f"load generator (Locust {locust_share:.0%} of {locust_cores} core {when})")
    machine = busy.get("machine (all processes)", 0.0)
    if not sides and machine >= SATURATED_SHARE * cpu_count:
        other = (run.get("cpu_cores_busy") or {}).get("other processes", 0.0)
        sides.append(f"machine ({machine:.1f} of {cpu_count} cores {when}, "
                     f"{other:.1f} not ours on average)")
    return ", ".join(sides) or (
        f"neither (gateway {gateway_share:.0%}, Locust {locust_share:.0%} {when})")


def _gateway_share(busy: dict[str, float], gateway_workers: int) -> float:
    """How busy the gateway side was: one `gateway` process tree over its uvicorn workers'
    cores, or the busiest of several gateway processes (the Cluster shape), one core each."""
    if "gateway" in busy:
        return busy["gateway"] / gateway_workers
    return max((v for name, v in busy.items() if name.startswith("gateway")), default=0.0)


def peak_sockets(report: dict[str, Any]) -> int:
    """Most fans waiting at once: each holds its queue WebSocket until it is admitted."""
    return max((int(level) for _, level in report["series"]["queue_length"]), default=0)


def row_of(report: dict[str, Any], cpu_count: int, load_before: float | None = None) -> ScaleRow:
    run = report["run"]
    fans = int(run["fans"])
    wall_s = float(run.get("locust_wall_s") or 0)
    busy: dict[str, float] = run.get("cpu_cores_busy") or {}
    # cores busy x wall = CPU seconds; divided by fans x minutes of that same wall.
    cpu_per_fan_minute = (
        server_cores(busy) * wall_s / (fans * wall_s / 60) if wall_s and busy else None
    )
    sockets = peak_sockets(report)
    gateway_memory = (run.get("memory_kib") or {}).get("gateway")
    growth = gateway_memory["peak"] - gateway_memory["first"] if gateway_memory else None
    kib_per_socket = growth / sockets if growth is not None and sockets else None
    join = report["join_latency_ms"]
    return ScaleRow(
        fans=fans,
        join_p50_ms=join.get("p50"),
        join_p99_ms=join.get("p99"),
        tick_to_fan_lag_p99_ms=report["websocket"]["admitted_lag_ms"].get("p99"),
        server_cpu_s_per_fan_minute=_rounded(cpu_per_fan_minute, 4),
        kib_per_socket=_rounded(kib_per_socket, 1),
        peak_sockets=sockets,
        admission_accuracy=report["admission"].get("ratio"),
        saturated=saturated_side(run, cpu_count),
        load_before=load_before,
        all_ok=bool(report["invariants"]["all_ok"]),
        server_cores=round(server_cores(busy), 3),
        gateway_growth_kib=growth,
    )


def with_cost_ratios(rows: list[ScaleRow]) -> list[ScaleRow]:
    """Each row's server CPU per fan per minute over the first row's (flat = ~1.0), and
    what its extra fans cost over the first row's, in CPU and in gateway memory."""
    if not rows:
        return []
    first = rows[0]
    compared = []
    for row in rows:
        ratio = marginal_cpu = marginal_kib = None
        if first.server_cpu_s_per_fan_minute and row.server_cpu_s_per_fan_minute is not None:
            ratio = _rounded(row.server_cpu_s_per_fan_minute / first.server_cpu_s_per_fan_minute,
                             2)
        if row.fans > first.fans:
            # Cores busy x 60 s: CPU seconds per minute, shared by the extra fans.
            marginal_cpu = _rounded(
                (row.server_cores - first.server_cores) * 60 / (row.fans - first.fans), 4
            )
        extra_sockets = row.peak_sockets - first.peak_sockets
        if (
            extra_sockets > 0
            and row.gateway_growth_kib is not None
            and first.gateway_growth_kib is not None
        ):
            marginal_kib = _rounded(
                (row.gateway_growth_kib - first.gateway_growth_kib) / extra_sockets, 1
            )
        compared.append(ScaleRow(**{
            **asdict(row), "cost_ratio": ratio, "marginal_cpu_s_per_fan_minute": marginal_cpu,
            "marginal_kib_per_socket": marginal_kib,
        }))
    return compared


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


HEADER = (
    "| Fans | Join p50 / p99 ms | Tick-to-fan lag p99 ms | Server CPU s per fan-minute "
    "| Cost vs first | Extra fans' CPU s per fan-minute | KiB per socket (peak sockets) "
    "| Extra sockets' KiB each | Admission accuracy | Saturated | Load before | Invariants |"
)


def markdown(rows: list[ScaleRow], machine: str) -> str:
    lines = [machine, "", HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for row in rows:
        lines.append(
            f"| {row.fans:,} | {_cell(row.join_p50_ms)} / {_cell(row.join_p99_ms)} "
            f"| {_cell(row.tick_to_fan_lag_p99_ms)} | {_cell(row.server_cpu_s_per_fan_minute)} "
            f"| {_cell(row.cost_ratio)} | {_cell(row.marginal_cpu_s_per_fan_minute)} "
            f"| {_cell(row.kib_per_socket)} ({row.peak_sockets:,}) "
            f"| {_cell(row.marginal_kib_per_socket)} | {_cell(row.admission_accuracy)} "
            f"| {row.saturated} | {_cell(row.load_before)} "
            f"| {'ok' if row.all_ok else '**failed**'} |"
        )
    return "\n".join(lines)
