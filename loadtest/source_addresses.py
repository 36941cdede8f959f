"""Which loopback source address a load-test client connects from.

The kernel gives each outgoing connection an ephemeral port of its source address
(here 32768-60999, about 28k ports), so past ~28k sockets from 127.0.0.1 connects
fail with EADDRNOTAVAIL. Linux answers for all of 127.0.0.0/8 on `lo`, so a client on
the same box as the server spreads its connections over 127.0.0.1, 127.0.0.2, ...:
one address per `per_address` sockets (20,000 by default, well inside the port range
with room for sockets in TIME_WAIT). Each client is given its address by its index
(a fan's number), so a fan always leaves from the same address, and a run with fewer
sockets than one address holds stays on 127.0.0.1 as before.

Only for a loopback IPv4 target: an address of 127/8 cannot reach anything else.
The crowd stays inside CROWD_NETWORK, which a rehearsal's gateway exempts from the
per-address limits (loadtest/farm.py deliberately comes from outside it).

Shared by the Locust fans (loadtest/http.py, loadtest/ws.py) and the WebSocket
benchmark's subscribers (loadtest/bench_queue_kit/ws_clients.py). Nothing here
imports Locust or gevent.
"""

from __future__ import annotations

import ipaddress
import math

DEFAULT_SOCKETS_PER_ADDRESS = 20_000
CROWD_NETWORK = ipaddress.IPv4Network("127.0.0.0/24")
# 127.0.0.1 .. 127.0.0.254: the network and broadcast-looking ends left alone.
MAX_ADDRESSES = CROWD_NETWORK.num_addresses - 2
# A rehearsal gateway's TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS: the crowd's addresses (and
# IPv6 loopback), so spreading fans over them meets no per-address limit.
CROWD_EXEMPT_NETWORKS = f"{CROWD_NETWORK},::1/128"


def address_count(sockets: int, per_address: int = DEFAULT_SOCKETS_PER_ADDRESS) -> int:
    """How many source addresses `sockets` connections need, `per_address` each."""
    if per_address < 1:
        raise ValueError("per_address must be at least 1")
    return max(1, min(MAX_ADDRESSES, math.ceil(sockets / per_address)))


def source_address(index: int, addresses: int) -> str:
    """The source address of client number `index` among `addresses` addresses."""
    return str(CROWD_NETWORK.network_address + 1 + index % max(1, min(MAX_ADDRESSES, addresses)))


def is_loopback_target(host: str) -> bool:
    """True for `localhost` and IPv4 loopback addresses, which any 127/8 source reaches."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return isinstance(address, ipaddress.IPv4Address) and address.is_loopback


def source_for(host: str, index: int, addresses: int) -> str | None:
    """The source address client `index` binds to when connecting to `host`; None (let
    the kernel choose) for a target that is not loopback, or when one address does."""
    if addresses <= 1 or not is_loopback_target(host):
        return None
    return source_address(index, addresses)
