"""What Postgres and localstripe say happened: tickets, orders, payments of one drop.

These are the numbers a venue and an engineer trust more than any client's view:
tickets sold per tier against capacity, and every payment that succeeded at the
payment provider matched to an order that was ticketed or refunded.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from typing import Any

import psycopg

from core.db import libpq_url


def ledger(database_url: str, *, drop_id: int, event_id: int) -> dict[str, Any]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        tiers = conn.execute(
            "SELECT id, name, capacity, sold FROM ticket_tiers WHERE event_id = %s ORDER BY id",
            (event_id,),
        ).fetchall()
        counts = conn.execute(
            "SELECT tier_id, status, count(*) FROM tickets WHERE event_id = %s GROUP BY 1, 2",
            (event_id,),
        ).fetchall()
        issued = conn.execute(
            "SELECT tier_id, extract(epoch FROM created_at) * 1000 FROM tickets"
            " WHERE event_id = %s ORDER BY created_at",
            (event_id,),
        ).fetchall()
        orders = conn.execute(
            "SELECT o.id, o.state, o.reason, count(t.id) FILTER (WHERE t.status = 'valid')"
            " FROM orders o LEFT JOIN tickets t ON t.order_id = o.id"
            " WHERE o.drop_id = %s GROUP BY o.id",
            (drop_id,),
        ).fetchall()
        payments = conn.execute(
            "SELECT p.stripe_payment_intent_id, p.status, p.amount_cents, p.refunded_cents,"
            " p.order_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.drop_id = %s",
            (drop_id,),
        ).fetchall()
    by_tier: dict[int, dict[str, int]] = defaultdict(dict)
    for tier_id, status, count in counts:
        by_tier[tier_id][status] = int(count)
    names = {tier_id: name for tier_id, name, _, _ in tiers}
    return {
        "tiers": [
            {
                "tier_id": tier_id,
                "name": name,
                "capacity": capacity,
                "sold": sold,
                "tickets_valid": by_tier[tier_id].get("valid", 0),
                "tickets_refunded": by_tier[tier_id].get("refunded", 0),
                "tickets_total": sum(by_tier[tier_id].values()),
            }
            for tier_id, name, capacity, sold in tiers
        ],
        "issued": [(names.get(tier_id, str(tier_id)), float(ms)) for tier_id, ms in issued],
        "orders": {
            order_id: {"state": state, "reason": reason, "valid_tickets": int(valid)}
            for order_id, state, reason, valid in orders
        },
        "payments": {
            intent: {"status": status, "amount": amount, "refunded": refunded, "order": order}
            for intent, status, amount, refunded, order in payments
        },
    }


def provider_intents(
    api_base: str | None, api_key: str | None, drop_id: int
) -> list[dict[str, Any]] | None:
    """Every PaymentIntent of the drop at the provider (localstripe), or None if unreachable."""
    if not api_base or not api_key:
        return None
    intents: list[dict[str, Any]] = []
    after = ""
    for _ in range(1000):
        query = urllib.parse.urlencode(
            {"limit": 100, **({"starting_after": after} if after else {})}
        )
        request = urllib.request.Request(
            f"{api_base}/v1/payment_intents?{query}", headers={"Authorization": f"Bearer {api_key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                page = json.loads(response.read())
        except (OSError, ValueError):
            return None
        data = page.get("data", [])
        intents += [
            i for i in data if str((i.get("metadata") or {}).get("drop_id", "")) == str(drop_id)
        ]
        if not page.get("has_more") or not data:
            break
        after = data[-1]["id"]
    return intents


def reconcile(book: dict[str, Any], intents: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Succeeded payments == ticketed + refunded, intent by intent."""
    payments, orders = book["payments"], book["orders"]
    if intents is not None:
        succeeded = {i["id"] for i in intents if i.get("status") == "succeeded"}
        source = "localstripe payment intents, matched to Postgres payments/orders/tickets"
    else:
        succeeded = {k for k, p in payments.items() if p["status"] in ("succeeded", "refunded")}
        source = "Postgres payments (provider not reachable)"
    ticketed, refunded, unmatched = 0, 0, []
    for intent in sorted(succeeded):
        payment = payments.get(intent)
        order = orders.get(payment["order"]) if payment else None
        if payment and (
            payment["status"] == "refunded" or payment["refunded"] >= payment["amount"]
        ):
            refunded += 1
        elif order and order["state"] == "paid" and order["valid_tickets"] > 0:
            ticketed += 1
        elif order and order["state"] == "refunded":
            refunded += 1
        else:
            unmatched.append({"intent": intent, "payment": payment, "order": order})
    # The other way round: tickets must never exist without money.
    unpaid_ticketed = [
        order_id
        for order_id, order in orders.items()
        if order["valid_tickets"] > 0
        and not any(p["order"] == order_id and p["id_ok"] for p in _with_ids(payments, succeeded))
    ]
    return {
        "succeeded": len(succeeded),
        "ticketed": ticketed,
        "refunded": refunded,
        "unreconciled": unmatched[:20],
        "unreconciled_count": len(unmatched),
        "ticketed_without_payment": unpaid_ticketed[:20],
        "ok": not unmatched and not unpaid_ticketed and len(succeeded) == ticketed + refunded,
        "source": source,
    }


def _with_ids(payments: dict[str, Any], succeeded: set[str]) -> list[dict[str, Any]]:
    return [{**p, "id_ok": intent in succeeded} for intent, p in payments.items()]


def settle_and_check(
    database_url: str,
    *,
    drop_id: int,
    event_id: int,
    api_base: str | None,
    api_key: str | None,
    grace_s: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Re-read until payments reconcile or `grace_s` passes: webhooks may still be in flight."""
    deadline = time.monotonic() + grace_s
    while True:
        book = ledger(database_url, drop_id=drop_id, event_id=event_id)
        check = reconcile(book, provider_intents(api_base, api_key, drop_id))
        if check["ok"] or time.monotonic() >= deadline:
            check["settle_wait_s"] = round(grace_s - max(0.0, deadline - time.monotonic()), 1)
            return book, check
        time.sleep(1.0)


async def _join_order(redis_url: str, cluster: bool, drop_id: int) -> dict[int, int]:
    from core.redis_client import close_redis, create_redis
    from core.redis_keys import drop_keys

    client = create_redis(redis_url, cluster=cluster, max_connections=4)
    try:
        raw = await client.hgetall(drop_keys(drop_id).fan_seq)
    finally:
        await close_redis(client)
    order: dict[int, int] = {}
    for fan, seq in raw.items():
        # '<seq>:<heartbeat ms>' (lua/includes/fan_place.lua); older drops hold '<seq>'.
        text = (seq.decode() if isinstance(seq, bytes) else str(seq)).split(":", 1)[0]
        if text.isdigit():
            order[int(fan)] = int(text)
    return order


def join_order(redis_url: str, cluster: bool, drop_id: int) -> dict[int, int]:
    """fan id -> the sequence number the waiting room gave it (its exact place in line).

    Read once, after the run, from the drop's `fanseq` hash (core.redis_keys);
    {} if Redis cannot be read, and the report falls back to client join times.
    """
    import asyncio

    try:
        return asyncio.run(_join_order(redis_url, cluster, drop_id))
    except Exception:  # a missing figure, not a failed rehearsal
        return {}
