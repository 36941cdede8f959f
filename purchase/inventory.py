"""The Redis inventory gate: typed wrappers over the hold and stock Lua scripts.

Every function here is one atomic script call on one drop's hash tag (so it runs
unchanged on Redis Cluster). Keys come from `core.redis_keys.DropKeys` in each
script header's order; refusals come back as `ScriptError` codes that this module
turns into domain errors a fan can read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import Busy, Conflict, Gone
from core.redis_keys import DropKeys
from core.scripts import ScriptError, ScriptRegistry


class SoldOut(Conflict):
    """Not enough seats left in a tier for this hold."""


class OverLimit(Conflict):
    """The hold would take the fan past a tier's per-fan limit (holds and orders together)."""


class PassNotLive(Gone):
    """The admission pass was revoked, replaced, or its purchase session ended."""


class InventoryNotLoaded(Busy):
    """Redis has no stock for a tier yet (first use, or lost); load it from the ledger."""

    def __init__(self, tier_id: int) -> None:
        super().__init__("inventory is loading; try again in a moment", tier_id=tier_id)
        self.tier_id = tier_id


class HoldGone(Gone):
    """The hold was released, expired, or already used."""


class HoldExpired(Gone):
    """The hold is past its expiry (its seats are about to return to stock)."""


@dataclass(frozen=True)
class HoldItem:
    tier_id: int
    quantity: int
    per_fan_limit: int


def _error(exc: ScriptError) -> Exception:
    parts = exc.detail.split(":") if exc.detail else []
    if exc.code == "PASS_REVOKED":
        return PassNotLive("this admission pass is no longer valid; rejoin the queue")
    if exc.code == "PASS_EXPIRED":
        return PassNotLive("your purchase session has ended; rejoin the queue")
    if exc.code == "SOLD_OUT":
        return SoldOut("sold out: not enough tickets left in this tier",
                       tier_id=int(parts[0]), available=int(parts[1]))
    if exc.code == "LIMIT":
        return OverLimit(f"at most {parts[2]} tickets of this tier per fan",
                         tier_id=int(parts[0]), already=int(parts[1]), limit=int(parts[2]))
    if exc.code == "NOT_LOADED":
        return InventoryNotLoaded(int(parts[0]))
    if exc.code == "HOLD_EXISTS":
        return Conflict("this hold already exists")
    if exc.code == "HOLD_EXPIRED":
        return HoldExpired("this hold has expired; its tickets went back on sale")
    if exc.code == "HOLD_GONE":
        return HoldGone("this hold no longer exists")
    return exc


async def reserve_hold(
    scripts: ScriptRegistry, keys: DropKeys, *, hold_id: str, fan_id: int, pass_id: str,
    items: list[HoldItem], now_ms: int, expires_ms: int,
) -> list[int]:
    """Hold seats of several tiers at once (all or nothing); returns stock left per item."""
    args: list[Any] = [hold_id, str(fan_id), pass_id, now_ms, expires_ms, len(items)]
    for item in items:
        args += [str(item.tier_id), item.quantity, item.per_fan_limit]
    try:
        left = await scripts.run("reserve_hold", [
            keys.stock_hash, keys.fan_counts, keys.holds, keys.hold_expiry,
            keys.active, keys.passes, keys.meta,
        ], args)
    except ScriptError as exc:
        raise _error(exc) from exc
    return [int(n) for n in left]


async def release_holds(
    scripts: ScriptRegistry, keys: DropKeys, hold_ids: list[str], *, now_ms: int,
    owner_fan_id: int | None = None, only_expired: bool = False,
) -> list[str]:
    """Return the stock of these holds (each exactly once); returns the ids released now."""
    if not hold_ids:
        return []
    released = await scripts.run("release_hold", [
        keys.stock_hash, keys.fan_counts, keys.holds, keys.hold_expiry, keys.meta,
    ], [now_ms, "" if owner_fan_id is None else str(owner_fan_id),
        "1" if only_expired else "0", *hold_ids])
    return [_text(hold_id) for hold_id in released]


async def expired_hold_ids(
    scripts: ScriptRegistry, keys: DropKeys, *, now_ms: int, limit: int
) -> list[str]:
    """Ids of holds whose expiry has passed (release_hold re-checks it atomically)."""
    found = await scripts.client.zrangebyscore(keys.hold_expiry, "-inf", now_ms, start=0, num=limit)
    return [_text(hold_id) for hold_id in found]  # type: ignore[arg-type]


async def sweep_expired(
    scripts: ScriptRegistry, keys: DropKeys, *, now_ms: int, limit: int = 500
) -> list[str]:
    """Release up to `limit` expired holds of one drop; returns the released ids."""
    candidates = await expired_hold_ids(scripts, keys, now_ms=now_ms, limit=limit)
    return await release_holds(scripts, keys, candidates, now_ms=now_ms, only_expired=True)


async def convert_hold(
    scripts: ScriptRegistry, keys: DropKeys, *, hold_id: str, order_id: str, now_ms: int
) -> bool:
    """Mark a live hold as paid; True if converted now, False if it already was (same order)."""
    try:
        result = await scripts.run("convert_hold", [keys.holds, keys.hold_expiry, keys.meta],
                                   [hold_id, order_id, now_ms])
    except ScriptError as exc:
        raise _error(exc) from exc
    return int(result) == 1


async def finish_hold(scripts: ScriptRegistry, keys: DropKeys, *, hold_id: str,
                      ticketed: bool) -> bool:
    result = await scripts.run("finish_hold", [keys.holds, keys.fan_counts],
                               [hold_id, "ticketed" if ticketed else "refunded"])
    return int(result) == 1


@dataclass(frozen=True)
class LedgerView:
    """What Postgres says a drop's inventory should be (see purchase.reconcile)."""

    room: dict[int, int]  # tier -> capacity - sold (minus other drops' live holds)
    bought: dict[tuple[int, int], int]  # (fan, tier) -> valid tickets
    ticketed: list[str]  # hold ids the ledger already turned into orders
    holds: dict[str, tuple[int, int, list[tuple[int, int]]]]  # live: id -> (fan, exp_ms, items)

    def payload(self) -> str:
        return json.dumps({
            "room": {str(tier): n for tier, n in self.room.items()},
            "bought": {f"{fan}:{tier}": n for (fan, tier), n in self.bought.items()},
            "ticketed": self.ticketed,
            "holds": {
                hold_id: {"fan": str(fan), "exp": str(exp),
                          "items": [[str(t), str(q)] for t, q in items]}
                for hold_id, (fan, exp, items) in self.holds.items()
            } or {},
        })


@dataclass(frozen=True)
class StockReport:
    loaded: bool
    tiers: dict[int, tuple[int | None, int, int]]  # tier -> (old stock or None, new, held)
    restored_holds: int = 0
    finished_holds: int = 0
    clamped: tuple[int, ...] = ()

    @property
    def differences(self) -> dict[int, tuple[int | None, int]]:
        return {tier: (old, new) for tier, (old, new, _) in self.tiers.items() if old != new}


async def set_stock(
    scripts: ScriptRegistry, keys: DropKeys, ledger: LedgerView, *, now_ms: int,
    only_if_missing: bool = False,
) -> StockReport:
    raw = await scripts.run("set_stock", [
        keys.stock_hash, keys.fan_counts, keys.holds, keys.hold_expiry, keys.meta,
    ], [ledger.payload(), "if_missing" if only_if_missing else "rebuild", now_ms])
    data = json.loads(raw)
    if not data.get("loaded"):
        return StockReport(loaded=False, tiers={})
    tiers = {
        int(tier): (None if int(old) < 0 else int(old), int(new), int(held))
        for tier, (old, new, held) in (data.get("tiers") or {}).items()
    }
    clamped = data.get("clamped") or []
    return StockReport(True, tiers, int(data["restored_holds"]), int(data["finished_holds"]),
                       tuple(int(t) for t in (clamped if isinstance(clamped, list) else [])))


async def read_stock(scripts: ScriptRegistry, keys: DropKeys) -> dict[int, int]:
    raw = await scripts.client.hgetall(keys.stock_hash)
    return {int(_text(tier)): int(value) for tier, value in raw.items()}


async def read_holds(scripts: ScriptRegistry, keys: DropKeys) -> dict[str, dict[str, Any]]:
    """Every hold record Redis has for the drop (active, or paid awaiting the ledger)."""
    raw = await scripts.client.hgetall(keys.holds)
    return {_text(hold_id): json.loads(record) for hold_id, record in raw.items()}


async def hold_record(
    scripts: ScriptRegistry, keys: DropKeys, hold_id: str
) -> dict[str, Any] | None:
    raw = await scripts.client.hget(keys.holds, hold_id)
    return None if raw is None else dict(json.loads(raw))


SELLOUT = {"": "", "held": "held", "1": "sold"}


async def sellout(scripts: ScriptRegistry, keys: DropKeys) -> str:
    """"" while seats are left to hold; "held" once every seat is held or sold but some
    holds may still expire; "sold" once every seat is paid for (the queue refuses joins)."""
    return SELLOUT.get(_text(await scripts.client.hget(keys.meta, "sold_out") or b""), "sold")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
