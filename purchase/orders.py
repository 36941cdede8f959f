"""Reading orders: the fan's own, one order (settling it on poll), a venue's orders and sales."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import event_tiers, managed_event
from catalog.authz import Actor
from core.errors import Busy, NotFound
from core.models import Drop, Hold, Order, Payment, Ticket
from purchase import settlement
from purchase.context import PurchaseContext


@dataclass(frozen=True)
class OrderView:
    order: Order
    tickets: list[Ticket] = field(default_factory=list)
    payment: Payment | None = None


async def order_view(ctx: PurchaseContext, order_id: str) -> OrderView | None:
    async with ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
        if order is None:
            return None
        tickets = list(await session.scalars(
            select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.tier_id, Ticket.id)))
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id)
                                       .order_by(Payment.id.desc()).limit(1))
    return OrderView(order, tickets, payment)


async def order_for_owner(ctx: PurchaseContext, *, order_id: str, fan_id: int,
                          now: datetime) -> OrderView:
    """The order, if it is the caller's (404 otherwise); a pending one is settled first."""
    view = await order_view(ctx, order_id)
    if view is None or view.order.user_id != fan_id:
        raise NotFound("no such order")
    if view.order.state == "pending" and view.payment is not None and ctx.stripe is not None:
        # A lost webhook must not strand a paid fan: the poll asks Stripe itself.
        try:
            intent = await ctx.stripe.retrieve_intent(view.payment.stripe_payment_intent_id)
        except Busy:
            return view  # Stripe unreachable: the order as the ledger knows it
        await settlement.settle(ctx, intent, now=now, order_id=order_id)
        view = await order_view(ctx, order_id) or view
    return view


async def event_orders(ctx: PurchaseContext, actor: Actor, *, event_id: int, limit: int,
                       offset: int) -> tuple[list[OrderView], int]:
    """A page of the event's orders, newest first, and how many it has (venue admins)."""
    async with ctx.sessionmaker() as session:
        event = await managed_event(session, actor, event_id)
        total = await session.scalar(select(func.count()).select_from(Order)
                                     .where(Order.event_id == event.id))
        orders = list(await session.scalars(
            select(Order).where(Order.event_id == event.id)
            .order_by(Order.created_at.desc(), Order.id).limit(limit).offset(offset)))
        tickets = await _tickets_of(session, [order.id for order in orders])
    return [OrderView(order, tickets[order.id]) for order in orders], int(total or 0)


async def _tickets_of(session: AsyncSession, order_ids: list[str]) -> dict[str, list[Ticket]]:
    tickets: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in await session.scalars(select(Ticket).where(Ticket.order_id.in_(order_ids))
                                        .order_by(Ticket.tier_id, Ticket.id)):
        tickets[ticket.order_id].append(ticket)
    return tickets


async def orders_of(ctx: PurchaseContext, *, fan_id: int, limit: int = 100) -> list[OrderView]:
    async with ctx.sessionmaker() as session:
        orders = list(await session.scalars(select(Order).where(Order.user_id == fan_id)
                                            .order_by(Order.created_at.desc()).limit(limit)))
        tickets = await _tickets_of(session, [order.id for order in orders])
    return [OrderView(order, tickets[order.id]) for order in orders]


async def event_sales(ctx: PurchaseContext, actor: Actor, *, event_id: int,
                      now: datetime) -> dict[str, Any]:
    """Sold, held and remaining per tier, and revenue, for the event's venue admins."""
    async with ctx.sessionmaker() as session:
        event = await managed_event(session, actor, event_id)
        tiers = await event_tiers(session, event.id)
        held: dict[int, int] = defaultdict(int)
        for hold in await session.scalars(select(Hold).where(
                Hold.event_id == event.id, Hold.state == "active", Hold.expires_at > now)):
            for item in hold.items:
                held[int(item["tier_id"])] += int(item["quantity"])
        revenue_rows = await session.execute(
            select(Order.currency, Order.state, func.count(), func.sum(Order.total_cents))
            .where(Order.event_id == event.id, Order.state.in_(["paid", "refunded"]))
            .group_by(Order.currency, Order.state))
        drops = list(await session.scalars(select(Drop.id).where(Drop.event_id == event.id)))
    revenue: dict[str, dict[str, int]] = defaultdict(lambda: {
        "paid_orders": 0, "revenue_cents": 0, "refunded_orders": 0, "refunded_cents": 0})
    for currency, state, count, total in revenue_rows.all():
        entry = revenue[currency]
        key = "paid" if state == "paid" else "refunded"
        entry[f"{key}_orders"] += int(count)
        entry["revenue_cents" if state == "paid" else "refunded_cents"] += int(total or 0)
    return {
        "event_id": event.id, "status": event.status, "drop_ids": drops,
        "tiers": [{
            "tier_id": tier.id, "name": tier.name, "capacity": tier.capacity, "sold": tier.sold,
            "held": held[tier.id], "remaining": max(0, tier.capacity - tier.sold - held[tier.id]),
            "price_cents": tier.price_cents, "currency": tier.currency,
        } for tier in tiers],
        "revenue": [{"currency": code, **values} for code, values in sorted(revenue.items())],
    }
