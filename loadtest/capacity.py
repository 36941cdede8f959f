"""`ticketq capacity`: the machines a drop needs, from measured per-fan costs.

The costs come from loadtest/capacity_figures.json (machine and date inside), not from
guesses; the arithmetic is plain so an operator can redo it by hand (docs/scaling.md,
"Capacity model"). Every figure is per core of the measuring machine.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

FIGURES = Path(__file__).with_name("capacity_figures.json")
# Headroom: plan each resource at this fraction of its measured ceiling, since a spike's
# peak second is denser than its average.
UTILISATION = 0.5
# Memory one gateway process may give to sockets before it is worth another process.
SOCKET_MEMORY_PER_PROCESS_MIB = 2048
# Postgres connections a gateway process keeps (TICKETQ_DB_POOL_SIZE default on 2 cores
# plus TICKETQ_DB_MAX_OVERFLOW).
PG_CONNECTIONS_PER_PROCESS = 8


@dataclass(frozen=True)
class Figures:
    machine: str
    date: str
    join_cpu_s: float  # gateway CPU per HTTP join
    redis_join_s: float  # Redis server time of the join script
    socket_kib: float  # gateway memory per idle WebSocket
    push_cpu_s: float  # gateway CPU per position message
    push_interval_s: float  # a message at least this often per socket
    redis_bytes_per_fan: int  # one fan's place in the line
    order_cpu_s: float  # gateway CPU per paid order

    @classmethod
    def load(cls, path: Path = FIGURES) -> Figures:
        data = json.loads(path.read_text())
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Drop:
    fans: int
    arrival_seconds: float
    admit_per_minute: int


@dataclass(frozen=True)
class Plan:
    join_rate: float  # joins per second at the arrival's average
    gateway_cores: int
    gateway_processes: int
    socket_memory_mib: float
    redis_shard_load: float  # fraction of one Redis core the drop's joins take
    redis_memory_mib: float
    fits_one_shard: bool
    postgres_cores: int
    postgres_connections: int


def plan(drop: Drop, figures: Figures) -> Plan:
    join_rate = drop.fans / drop.arrival_seconds
    orders_per_s = drop.admit_per_minute / 60
    cpu = (join_rate * figures.join_cpu_s
           + drop.fans / figures.push_interval_s * figures.push_cpu_s
           + orders_per_s * figures.order_cpu_s)
    cores = max(1, math.ceil(cpu / UTILISATION))
    socket_mib = drop.fans * figures.socket_kib / 1024
    processes = max(cores, math.ceil(socket_mib / SOCKET_MEMORY_PER_PROCESS_MIB))
    shard_load = join_rate * figures.redis_join_s
    # Postgres sees orders, not the line: about one core per 100 orders/s of ~15 statements
    # (issue 15's order path), never less than one core.
    postgres_cores = max(1, math.ceil(orders_per_s / 100 / UTILISATION))
    return Plan(
        join_rate=join_rate, gateway_cores=cores, gateway_processes=processes,
        socket_memory_mib=socket_mib, redis_shard_load=shard_load,
        redis_memory_mib=drop.fans * figures.redis_bytes_per_fan / 2**20,
        fits_one_shard=shard_load <= UTILISATION,
        postgres_cores=postgres_cores,
        postgres_connections=processes * PG_CONNECTIONS_PER_PROCESS + 10,
    )


def render(drop: Drop, figures: Figures, result: Plan) -> str:
    shard = ("one Redis master carries it" if result.fits_one_shard else
             "MORE than one Redis master can carry for one drop (one drop is one hash slot):"
             " stretch the arrival or split the drop")
    return "\n".join([
        f"drop: {drop.fans:,} fans arriving over {drop.arrival_seconds:g} s, "
        f"admitting {drop.admit_per_minute:,}/min",
        f"  joins/s (average over the arrival)  {result.join_rate:,.0f}",
        f"  gateway cores                       {result.gateway_cores}",
        f"  gateway processes                   {result.gateway_processes}",
        f"  socket memory (all gateways)        {result.socket_memory_mib:,.0f} MiB",
        f"  Redis: one core's share for joins   {result.redis_shard_load:.2f} ({shard})",
        f"  Redis memory for the line           {result.redis_memory_mib:,.0f} MiB",
        f"  Postgres cores                      {result.postgres_cores}",
        f"  Postgres max_connections            {result.postgres_connections}",
        "assumptions:",
        f"  per-fan costs measured on {figures.machine}, {figures.date} ({FIGURES.name})",
        f"  join {figures.join_cpu_s * 1e6:.0f} us gateway CPU, {figures.redis_join_s * 1e6:.0f}"
        f" us Redis; socket {figures.socket_kib} KiB; a message per socket every"
        f" {figures.push_interval_s:g} s at {figures.push_cpu_s * 1e6:.0f} us;"
        f" order {figures.order_cpu_s * 1e3:.0f} ms",
        f"  every resource planned at {UTILISATION:.0%} of its ceiling; arrivals even over"
        " the window (a sharper peak needs proportionally more gateway cores)",
        f"  one gateway process holds at most {SOCKET_MEMORY_PER_PROCESS_MIB} MiB of sockets;"
        f" {PG_CONNECTIONS_PER_PROCESS} Postgres connections per process",
    ])


def capacity_command(settings: object, args: argparse.Namespace) -> int:
    parser = argparse.ArgumentParser(prog="ticketq capacity",
                                     description="machines a drop needs, from measured costs")
    parser.add_argument("--fans", type=int, required=True)
    parser.add_argument("--arrival-seconds", type=float, required=True,
                        help="how long the crowd takes to arrive")
    parser.add_argument("--admit-per-minute", type=int, required=True)
    parser.add_argument("--figures", type=Path, default=FIGURES)
    options = parser.parse_args(args.rest)
    if options.fans < 1 or options.arrival_seconds <= 0 or options.admit_per_minute < 0:
        parser.error("--fans and --arrival-seconds must be positive")
    drop = Drop(options.fans, options.arrival_seconds, options.admit_per_minute)
    figures = Figures.load(options.figures)
    print(render(drop, figures, plan(drop, figures)))
    return 0
