"""Reconciliation: rebuild a drop's Redis inventory from the Postgres ledger.

Stock = capacity - sold - seats in live holds, per tier. The ledger's view is read in
one REPEATABLE READ snapshot; `set_stock` then merges it with the holds Redis still
has, atomically against every reserve and release, so a rebuild in the middle of a
drop neither frees held seats nor sells a seat twice. Runs at worker start, by
`ticketq reconcile`, and lazily the first time a drop's stock is missing in Redis
(first hold of a drop, or after Redis lost its data).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import to_ms
from core.models import Drop, Event, Hold, Order, Ticket, TicketTier
from core.redis_keys import DropKeys
from purchase import inventory
from purchase.context import PurchaseContext
from purchase.inventory import LedgerView, StockReport


async def ledger_view(session: AsyncSession, drop: Drop, *, now: datetime,
                      redis_hold_ids: list[str], cancelled: bool) -> LedgerView:
    tiers = list(await session.scalars(
        select(TicketTier).where(TicketTier.event_id == drop.event_id)))
    live = list(await session.scalars(select(Hold).where(
        Hold.event_id == drop.event_id, Hold.state == "active", Hold.expires_at > now)))
    # Holds of other drops of the same event share its capacity.
    elsewhere: dict[int, int] = defaultdict(int)
    for hold in live:
        if hold.drop_id != drop.id:
            for item in hold.items:
                elsewhere[int(item["tier_id"])] += int(item["quantity"])
    room = {tier.id: 0 if cancelled else max(0, tier.capacity - tier.sold - elsewhere[tier.id])
            for tier in tiers}
    bought_rows = await session.execute(
        select(Ticket.user_id, Ticket.tier_id, func.count())
        .where(Ticket.event_id == drop.event_id, Ticket.status == "valid")
        .group_by(Ticket.user_id, Ticket.tier_id))
    bought = {(int(user), int(tier)): int(n) for user, tier, n in bought_rows.all()}
    ticketed: list[str] = []
    if redis_hold_ids:
        ticketed = [str(hold_id) for hold_id in await session.scalars(
            select(Order.hold_id).where(Order.hold_id.in_(redis_hold_ids),
                                        Order.state != "pending"))]
    holds = {
        hold.id: (hold.user_id, to_ms(hold.expires_at),
                  [(int(item["tier_id"]), int(item["quantity"])) for item in hold.items])
        for hold in live if hold.drop_id == drop.id
    }
    return LedgerView(room=room, bought=bought, ticketed=ticketed, holds=holds)


async def reconcile_drop(ctx: PurchaseContext, drop_id: int, *, now: datetime,
                         only_if_missing: bool = False) -> StockReport:
    keys = DropKeys(drop_id)
    redis_holds = list((await inventory.read_holds(ctx.scripts, keys)).keys())
    async with ctx.sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        drop = await session.get(Drop, drop_id)
        if drop is None:
            return StockReport(loaded=False, tiers={})
        event = await session.get(Event, drop.event_id)
        cancelled = drop.state == "cancelled" or (event is not None and event.status == "cancelled")
        view = await ledger_view(session, drop, now=now, redis_hold_ids=redis_holds,
                                 cancelled=cancelled)
    return await inventory.set_stock(ctx.scripts, keys, view, now_ms=to_ms(now),
                                     only_if_missing=only_if_missing)


async def drops_to_reconcile(session: AsyncSession, *, now: datetime) -> list[int]:
    """Direct-sale drops that can still sell or still hold seats."""
    rows = await session.scalars(select(Drop.id).where(
        Drop.mode == "direct", Drop.state != "cancelled", Drop.closes_at > now).order_by(Drop.id))
    return list(rows)


async def reconcile_all(ctx: PurchaseContext, *, now: datetime,
                        drop_ids: list[int] | None = None) -> dict[int, StockReport]:
    if drop_ids is None:
        async with ctx.sessionmaker() as session:
            drop_ids = await drops_to_reconcile(session, now=now)
    return {drop_id: await reconcile_drop(ctx, drop_id, now=now) for drop_id in drop_ids}
