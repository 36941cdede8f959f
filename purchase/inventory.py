"""The Redis inventory gate: typed wrappers over the hold and stock Lua scripts.

Every function here is one atomic script call on one drop's hash tag (so it runs
unchanged on Redis Cluster). Keys come from `core.redis_keys.DropKeys` in each
script header's order (core.redis_keys.SCRIPT_KEYS); refusals come back as domain
errors a fan can read, through the one table of script errors (core.script_errors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.drop_phase import SELLOUT_FIELD, Sellout, read_sellout
from core.redis_keys import DropKeys
from core.script_errors import (
    HoldExists,
    HoldExpired,
    HoldGone,
    InventoryNotLoaded,
    OverLimit,
    PassNotLive,
    SoldOut,
)
from core.scripts import ScriptRegistry, reply_text, run_script

# The gate's refusals live in the one table of script errors (core.script_errors), as
# its scripts' codes do; re-exported so callers keep importing them from here.
__all__ = [
    "HoldExists", "HoldExpired", "HoldGone", "HoldItem", "InventoryNotLoaded", "LedgerView",
    "OverLimit", "PassNotLive", "SoldOut", "StockReport", "convert_hold", "expired_hold_ids",
    "finish_hold", "hold_record", "read_holds", "read_stock", "release_holds", "reserve_hold",
    "sellout", "set_stock", "sweep_expired"
]


@dataclass(frozen=True)
class HoldItem:
    tier_id: int
    quantity: int
    per_fan_limit: int


async def reserve_hold(
    scripts: ScriptRegistry, keys: DropKeys, *, hold_id: str, fan_id: int, pass_id: str,
    items: list[HoldItem], now_ms: int, expires_ms: int,
) -> list[int]:
    """Hold seats of several tiers at once (all or nothing); returns stock left per item."""
    args: list[Any] = [hold_id, str(fan_id), pass_id, now_ms, expires_ms, len(items)]
    for item in items:
        args += [str(item.tier_id), item.quantity, item.per_fan_limit]
    left = await run_script(scripts, "reserve_hold", keys.drop_id, args)
    return [int(n) for n in left]


async def release_holds(
    scripts: ScriptRegistry, keys: DropKeys, hold_ids: list[str], *, now_ms: int,
    owner_fan_id: int | None = None, only_expired: bool = False,
) -> list[str]:
    """Return the stock of these holds (each exactly once); returns the ids released now."""
    if not hold_ids:
        return []
    released = await run_script(scripts, "release_hold", keys.drop_id, [
        now_ms, "" if owner_fan_id is None else str(owner_fan_id),
        "1" if only_expired else "0", *hold_ids])
    return [reply_text(hold_id) for hold_id in released]


async def expired_hold_ids(
    scripts: ScriptRegistry, keys: DropKeys, *, now_ms: int, limit: int
) -> list[str]:
    """Ids of holds whose expiry has passed (release_hold re-checks it atomically)."""
    found = await scripts.client.zrangebyscore(keys.hold_expiry, "-inf", now_ms, start=0, num=limit)
    return [reply_text(hold_id) for hold_id in found]  # type: ignore[arg-type]


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
    result = await run_script(scripts, "convert_hold", keys.drop_id, [hold_id, order_id, now_ms])
    return int(result) == 1


async def finish_hold(scripts: ScriptRegistry, keys: DropKeys, *, hold_id: str,
                      ticketed: bool) -> bool:
    result = await run_script(scripts, "finish_hold", keys.drop_id,
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
    raw = await run_script(scripts, "set_stock", keys.drop_id, [
        ledger.payload(), "if_missing" if only_if_missing else "rebuild", now_ms])
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
    return {int(reply_text(tier)): int(value) for tier, value in raw.items()}


async def read_holds(scripts: ScriptRegistry, keys: DropKeys) -> dict[str, dict[str, Any]]:
    """Every hold record Redis has for the drop (active, or paid awaiting the ledger)."""
    raw = await scripts.client.hgetall(keys.holds)
    return {reply_text(hold_id): json.loads(record) for hold_id, record in raw.items()}


async def hold_record(
    scripts: ScriptRegistry, keys: DropKeys, hold_id: str
) -> dict[str, Any] | None:
    raw = await scripts.client.hget(keys.holds, hold_id)
    return None if raw is None else dict(json.loads(raw))


async def sellout(scripts: ScriptRegistry, keys: DropKeys) -> Sellout:
    """AVAILABLE ("") while seats are left to hold; HELD once every seat is held or sold but
    some holds may still expire; SOLD once every seat is paid for (the queue refuses joins)."""
    return read_sellout(await scripts.client.hget(keys.meta, SELLOUT_FIELD))
