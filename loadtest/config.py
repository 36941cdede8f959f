"""The rehearsal plan shared by `ticketq simulate` and the locustfile.

`ticketq simulate` seeds a drop and writes a plan file (JSON); every Locust
process (standalone, master or worker) reads the same file through
`--tq-plan PATH` (or the TQ_PLAN environment variable). Nothing here imports
Locust or gevent, so the simulate command and the report can use it too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtest.source_addresses import DEFAULT_SOCKETS_PER_ADDRESS, address_count

SHAPES = ("steady", "spike", "prequeue")
# Connections a waiting fan holds: its queue socket and one keep-alive HTTP connection.
FAN_SOCKETS = 2
# After the sales window, how long the last payments may take before Locust stops anyway.
GRACE_S = 20.0

# Every state a fan's story can end in. A fan still in any other state when the
# run stops is "unfinished", which the report flags.
FINAL_STATES = frozenset(
    {
        "ticketed",  # paid, and the order holds tickets
        "refunded",  # paid, then refunded by TicketQ (expired hold, full tier)
        "payment_failed",  # card declined or checkout refused
        "sold_out",  # told by the queue or the inventory gate that nothing is left
        "closed",  # the drop closed (or was closed) before this fan's turn
        "abandoned_queue",  # closed the tab while waiting
        "abandoned_cart",  # closed the tab holding tickets (the hold expires)
        "pass_expired",  # admitted, but the session ended before a hold
        "refused",  # the gateway refused to let the fan join (a reason is recorded)
    }
)


def opening_offset_s(shape: str, duration_s: int) -> float:
    """Seconds from the start of the run to the drop's opens_at, per arrival shape."""
    if shape == "prequeue":
        return max(5.0, 0.35 * duration_s)
    if shape == "spike":
        return max(3.0, 0.1 * duration_s)
    return 0.0  # steady: sales are open before the first fan arrives


@dataclass
class Account:
    """A seeded account: id, email and a bearer token minted at seeding time."""

    id: int
    email: str
    token: str


@dataclass
class Plan:
    base_url: str
    drop_id: int
    event_id: int
    tier_ids: dict[str, int]
    per_fan_limit: dict[str, int]
    capacity: dict[str, int]
    opens_at_ms: int
    closes_at_ms: int
    admit_per_minute: int
    max_active: int
    session_seconds: int
    fans: int
    bots: int
    venue_users: int
    duration_s: int
    shape: str
    abandon: float
    cart_abandon: float
    login_share: float
    signup_share: float
    password: str
    think_min_s: float
    think_max_s: float
    stride: int = 1
    accounts: list[Account] = field(default_factory=list)
    bot_accounts: list[Account] = field(default_factory=list)
    venue_token: str = ""
    webhook_secret: str | None = None
    records_path: str = ""
    seed: int = 0
    # The cluster shape's "dns" mode (loadtest.cluster_shape): each fan picks one of these
    # gateways itself, as DNS round robin would, and moves to the next when it fails.
    gateway_urls: list[str] = field(default_factory=list)
    # The shop's own gateway (simulate --shop-workers): holds, checkout, orders go there.
    shop_url: str = ""
    # Fans on a loopback gateway connect from 127.0.0.1, .2, ...: one source address per
    # this many sockets (loadtest.source_addresses; a fan holds FAN_SOCKETS of them).
    sockets_per_source_address: int = DEFAULT_SOCKETS_PER_ADDRESS

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw: dict[str, Any] = json.loads(text)
        raw["accounts"] = [Account(**account) for account in raw.get("accounts", [])]
        raw["bot_accounts"] = [Account(**account) for account in raw.get("bot_accounts", [])]
        return cls(**raw)

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        return cls.from_json(Path(path).read_text())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    def source_addresses(self) -> int:
        """How many loopback source addresses the fans are spread over."""
        return address_count(self.fans * FAN_SOCKETS, self.sockets_per_source_address)

    @property
    def ws_base_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")
