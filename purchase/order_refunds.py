"""A venue refunds one paid order in full: once, however often the button is pressed.

The decision is one transaction on the locked order row: the order becomes
`refunded`, its valid tickets `refunded` (so the door answers Refunded online and the
scanner bundle lists them as revoked: the scanner reads ticket status, nothing more),
its payments refund-due, the fan's `order_refunded` email enqueued and an
`order.refund` audit row written. A second or concurrent call waits for that lock,
finds the order refunded and changes nothing. The Stripe refund itself is carried
out after the commit by `refunds.execute_refund`, which claims it first, so it also
happens once; if Stripe is unreachable the worker's payment_reconciler finishes it.

The seats do not go back on sale (`ticket_tiers.sold` is unchanged): a refunded seat
reappearing mid-drop surprises fans in the queue and venues that refund for cause
(a fraudulent buyer, a duplicate order) rarely want it resold automatically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor, can_manage_venue
from core import audit
from core.errors import Busy, Conflict, Forbidden, NotFound
from core.models import Event, Order, Payment
from purchase import refunds
from purchase.context import PurchaseContext
from purchase.orders import OrderView, order_view

log = logging.getLogger(__name__)

VENUE_REASON = "refunded by the venue: {reason}"


@dataclass(frozen=True)
class RefundOutcome:
    view: OrderView
    refunded_now: bool  # False when an earlier call had already refunded it


async def _managed_order(session: AsyncSession, actor: Actor, order_id: str) -> Order:
    """The locked order, if the actor administers its event's venue.

    The order's own fan gets 403 (they can see it, not refund it); anyone else who is
    not an admin of the venue gets 404, as if the order did not exist."""
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise NotFound("no such order")
    event = await session.get(Event, order.event_id)
    if event is None or not await can_manage_venue(session, actor, event.venue_id):
        if order.user_id == actor.id:
            raise Forbidden("only the venue's admins can refund an order")
        raise NotFound("no such order")
    return order


async def _unrecorded_refunds(session: AsyncSession, order_id: str) -> list[int]:
    due = await session.scalars(select(Payment.id).where(
        Payment.order_id == order_id, Payment.refund_due_at.is_not(None),
        Payment.stripe_refund_id.is_(None)))
    return list(due)


async def _decide(ctx: PurchaseContext, actor: Actor, order_id: str, reason: str,
                  now: datetime) -> tuple[list[int], bool]:
    async with ctx.sessionmaker() as session, session.begin():
        order = await _managed_order(session, actor, order_id)
        if order.state == "refunded":
            # A repeat changes nothing, but pushes a refund still due (Stripe was down).
            return await _unrecorded_refunds(session, order.id), False
        if order.state != "paid":
            raise Conflict(f"only a paid order can be refunded; this one is {order.state}")
        full_reason = VENUE_REASON.format(reason=reason)
        await refunds.refund_order(session, order, full_reason, now)
        audit.record(session, actor_user_id=actor.id, action="order.refund",
                     subject_type="order", subject_id=order.id,
                     details={"reason": reason, "event_id": order.event_id,
                              "total_cents": order.total_cents, "currency": order.currency})
        return await _unrecorded_refunds(session, order.id), True


async def refund_by_venue(ctx: PurchaseContext, actor: Actor, *, order_id: str, reason: str,
                          now: datetime) -> RefundOutcome:
    """Refund a paid order in full (venue admins); a repeat returns the order as it stands."""
    due, refunded_now = await _decide(ctx, actor, order_id, reason, now)
    for payment_id in due:
        try:
            await refunds.execute_refund(ctx, payment_id, now=now)
        except Busy:  # Stripe unreachable or not configured: the worker finishes it
            log.warning("refund of payment %s left to the worker", payment_id)
    view = await order_view(ctx, order_id)
    assert view is not None  # orders are never deleted
    return RefundOutcome(view, refunded_now)
