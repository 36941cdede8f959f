"""The account farm (issue 11, finding 5): many accounts signed up and joined from one
address, as 25 were in 8 s. Run by the first bot of a rehearsal (loadtest/bots.py).

The rehearsal exempts only the crowd's own addresses (127.0.0.0/24,
loadtest/source_addresses.py) from the per-address limits; the farm connects from
another loopback address (all of 127.0.0.0/8 is on Linux's `lo`, so no set-up is
needed), a random one per run in its own /24 so that an
earlier rehearsal's sign-up counts (an hour per address and network, not per drop) do
not stop it before it reaches the join, and meets the limits a real farm would:
sign-ups per address, sign-ins per address, and new places per drop per address.
It solves every join's proof-of-work honestly, so only the limits stand in its way.

The farm's success is more places than one address may take: the per-address join
limit (TICKETQ_JOIN_PER_IP_PER_DROP, 10 by default), doubled because a fixed window
lets up to twice the limit through across its boundary (core/rate_limits.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import httpx

from loadtest.pow_solver import solved_payload

FARM_ACCOUNTS = 30
DEFAULT_JOIN_LIMIT_PER_IP = 10  # core/settings.py join_per_ip_per_drop
PASSWORD = "farm animal battery staple"


def farm_address() -> str:
    """A loopback address outside 127.0.0.0/24 (the crowd's, exempt, network)."""
    return f"127.{secrets.randbelow(254) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(253) + 2}"


@dataclass
class FarmOutcome:
    address: str = ""
    signed_up: int = 0
    signed_in: int = 0
    places: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def saw(self, step: str, status: int) -> None:
        key = f"{step} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def success(self, join_limit_per_ip: int = DEFAULT_JOIN_LIMIT_PER_IP) -> bool:
        return self.places > 2 * join_limit_per_ip

    def note(self) -> str:
        seen = ", ".join(f"{k} x{v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.signed_up} sign-ups, {self.signed_in} sign-ins, {self.places} places"
                f" from {self.address}: {seen}")


def farm_client(base_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30.0,
                        transport=httpx.HTTPTransport(local_address=address))


def _solved(client: httpx.Client, drop_id: int, headers: dict[str, str]) -> str | None:
    issued = client.get(f"/api/drops/{drop_id}/challenge", headers=headers)
    if issued.status_code != 200:
        return None
    # In this greenlet: the farm runs before the drop opens, 30 solves of ~8 ms.
    return solved_payload(issued.json())


def run_farm(client: httpx.Client, drop_id: int, address: str,
             accounts: int = FARM_ACCOUNTS) -> FarmOutcome:
    """Sign up `accounts` fresh accounts, sign each in and join the drop with it."""
    outcome = FarmOutcome(address=address)
    run = secrets.token_hex(4)
    for number in range(accounts):
        email = f"farm-{run}-{number}@farm.test"
        signup = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD,
                                                       "name": "Farm"})
        outcome.saw("signup", signup.status_code)
        if signup.status_code != 202:
            continue
        outcome.signed_up += 1
        login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        client.cookies.clear()
        outcome.saw("login", login.status_code)
        if login.status_code != 200:
            continue
        outcome.signed_in += 1
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        challenge = _solved(client, drop_id, headers)
        body = {"challenge": challenge} if challenge else None
        joined = client.post(f"/api/drops/{drop_id}/queue", headers=headers, json=body)
        outcome.saw("join", joined.status_code)
        outcome.places += int(joined.status_code == 201)
    return outcome
