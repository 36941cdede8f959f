"""A person's own data: everything held about an account (export), and closing it (delete).

Both read across parts (orders and payments of purchase, lottery entries, venue staff of
catalog, the mail outbox), so they live here, above those parts, rather than in accounts.

Deleting keeps the ledger whole: orders, tickets, payments and lottery entries stay with
their amounts and states, pointing at an account row whose personal fields are gone
(email -> a unique tombstone, name blank, password hash unusable, sessions revoked and
their user agents blanked, mail to the address scrubbed). Paid orders for events still to
come are refunded (`future_tickets="refund"`, through purchase.refunds.refund_order, as a
venue refund is) or kept valid for the door (`"keep"`). docs/accounts.md, "Your data".
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Busy, Conflict
from core.models import AuditEntry, Event, Order, Payment, Ticket, User, Venue, VenueStaff
from core.models.accounts import SignInSession
from lottery.models import LotteryEntry
from mail.models import OutboxMessage
from mail.outbox import DELETED_DOMAIN  # the outbox writes nothing to these addresses
from purchase import refunds
from purchase.context import PurchaseContext

log = logging.getLogger(__name__)

FutureTickets = Literal["refund", "keep"]
# Not the scrypt format, so accounts.passwords.verify_password refuses every password.
UNUSABLE_HASH = "!deleted"
REFUND_REASON = "the account was deleted at the fan's request"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def is_deleted(user: User) -> bool:
    return user.email.endswith(f"@{DELETED_DOMAIN}")


async def export_account(session: AsyncSession, user_id: int, *, now: datetime
                         ) -> dict[str, Any]:
    """Everything about the account, as plain JSON values. Payment secrets (client
    secrets, Stripe ids) are not the fan's data about themselves and stay out."""
    user = await session.get(User, user_id)
    assert user is not None  # the caller is signed in as this account
    orders = list(await session.scalars(
        select(Order).where(Order.user_id == user_id).order_by(Order.created_at)))
    order_ids = [order.id for order in orders]
    payments = list(await session.scalars(
        select(Payment).where(Payment.order_id.in_(order_ids)).order_by(Payment.id)))
    tickets = await session.scalars(
        select(Ticket).where(Ticket.user_id == user_id).order_by(Ticket.created_at))
    entries = await session.scalars(
        select(LotteryEntry).where(LotteryEntry.user_id == user_id))
    rows = await session.scalars(
        select(SignInSession).where(SignInSession.user_id == user_id)
        .order_by(SignInSession.id))
    staff = await session.scalars(select(VenueStaff).where(VenueStaff.user_id == user_id))
    audits = await session.scalars(select(AuditEntry).where(or_(
        AuditEntry.actor_user_id == user_id,
        (AuditEntry.subject_type == "order") & AuditEntry.subject_id.in_(order_ids),
        (AuditEntry.subject_type == "user") & (AuditEntry.subject_id == str(user_id)),
    )).order_by(AuditEntry.id))
    mails = await session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == user.email).order_by(OutboxMessage.created_at))
    return {
        "exported_at": now.isoformat(),
        "account": {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "created_at": _iso(user.created_at),
                    "email_verified_at": _iso(user.email_verified_at)},
        "sessions": [{"id": row.id, "created_at": _iso(row.created_at),
                      "revoked_at": _iso(row.revoked_at), "user_agent": row.user_agent}
                     for row in rows],
        "orders": [{"id": o.id, "event_id": o.event_id, "drop_id": o.drop_id, "items": o.items,
                    "total_cents": o.total_cents, "currency": o.currency, "state": o.state,
                    "reason": o.reason, "created_at": _iso(o.created_at),
                    "paid_at": _iso(o.paid_at)} for o in orders],
        "tickets": [{"id": t.id, "order_id": t.order_id, "event_id": t.event_id,
                     "tier_id": t.tier_id, "status": t.status,
                     "created_at": _iso(t.created_at)} for t in tickets],
        "payments": [{"id": p.id, "order_id": p.order_id, "amount_cents": p.amount_cents,
                      "currency": p.currency, "status": p.status,
                      "refunded_cents": p.refunded_cents, "refund_reason": p.refund_reason,
                      "created_at": _iso(p.created_at)} for p in payments],
        "lottery_entries": [{"id": e.id, "drop_id": e.drop_id, "tier_id": e.tier_id,
                             "quantity": e.quantity, "amount_cents": e.amount_cents,
                             "currency": e.currency, "status": e.status, "money": e.money}
                            for e in entries],
        "venue_staff": [{"venue_id": s.venue_id, "role": s.role} for s in staff],
        "audit": [{"id": a.id, "action": a.action, "subject_type": a.subject_type,
                   "subject_id": a.subject_id, "details": a.details,
                   "created_at": _iso(a.created_at)} for a in audits],
        "emails": [{"kind": m.kind, "subject": m.subject, "created_at": _iso(m.created_at),
                    "sent_at": _iso(m.sent_at)} for m in mails],
    }


class MustHandOver(Conflict):
    """The account holds a role nobody else would (409): hand it over first."""


async def _check_nothing_to_hand_over(session: AsyncSession, user: User) -> None:
    if user.role == "admin":
        raise MustHandOver("a platform admin cannot delete their own account; another "
                           "admin must first take the admin role away from it")
    staff = await session.scalars(select(VenueStaff).where(
        VenueStaff.user_id == user.id, VenueStaff.role == "venue_admin"))
    for row in staff:
        others = await session.scalar(select(func.count()).select_from(VenueStaff).where(
            VenueStaff.venue_id == row.venue_id, VenueStaff.role == "venue_admin",
            VenueStaff.user_id != user.id))
        if not others:
            venue = await session.get(Venue, row.venue_id)
            name = venue.name if venue is not None else f"venue {row.venue_id}"
            raise MustHandOver(f"you are the last admin of {name}: invite another admin "
                               "and let them accept before deleting your account",
                               venue_id=row.venue_id)


@dataclass(frozen=True)
class Deletion:
    refunded_orders: list[str]
    kept_orders: list[str]
    due_payments: list[int]  # refunds to carry out at Stripe once committed


async def _future_paid_orders(session: AsyncSession, user_id: int, now: datetime
                              ) -> list[Order]:
    return list(await session.scalars(
        select(Order).join(Event, Event.id == Order.event_id)
        .where(Order.user_id == user_id, Order.state == "paid", Event.starts_at > now)
        .order_by(Order.created_at).with_for_update(of=Order)))


async def anonymise(session: AsyncSession, user_id: int, *, future_tickets: FutureTickets,
                    now: datetime) -> Deletion:
    """In the caller's transaction: refund or keep future orders, then remove the personal
    fields. MustHandOver (409) before anything changes if the account holds a role alone."""
    user = await session.get(User, user_id, with_for_update=True)
    assert user is not None
    await _check_nothing_to_hand_over(session, user)
    future = await _future_paid_orders(session, user_id, now)
    refunded: list[str] = []
    if future_tickets == "refund":
        for order in future:
            await refunds.refund_order(session, order, REFUND_REASON, now)
            refunded.append(order.id)
    due = list(await session.scalars(select(Payment.id).where(
        Payment.order_id.in_(refunded), Payment.refund_due_at.is_not(None),
        Payment.stripe_refund_id.is_(None))))
    old_email = user.email
    tombstone = f"deleted-{user.id}-{secrets.token_hex(6)}@{DELETED_DOMAIN}"
    # Mail to the address: what was sent stays counted, without address or body; what is
    # still unsent (the refund notices just written too) is not sent: the answer to the
    # deletion lists the refunded orders instead.
    await session.execute(delete(OutboxMessage).where(
        OutboxMessage.to_address == old_email, OutboxMessage.sent_at.is_(None)))
    await session.execute(update(OutboxMessage).where(OutboxMessage.to_address == old_email)
                          .values(to_address=tombstone, text_body="", html_body=None))
    await session.execute(update(SignInSession).where(SignInSession.user_id == user.id)
                          .values(user_agent=""))
    await session.execute(delete(VenueStaff).where(VenueStaff.user_id == user.id))
    user.email, user.name, user.password_hash = tombstone, "", UNUSABLE_HASH
    user.email_verified_at = None
    audit.record(session, actor_user_id=user.id, action="account.delete", subject_type="user",
                 subject_id=user.id, details={"future_tickets": future_tickets,
                                              "refunded_orders": len(refunded)})
    kept = [order.id for order in future if order.id not in refunded]
    return Deletion(refunded_orders=refunded, kept_orders=kept, due_payments=due)


async def carry_out_refunds(ctx: PurchaseContext, deletion: Deletion, *, now: datetime) -> None:
    """After the commit, as a venue refund does; the worker finishes any left over."""
    for payment_id in deletion.due_payments:
        try:
            await refunds.execute_refund(ctx, payment_id, now=now)
        except Busy:
            log.warning("refund of payment %s left to the worker", payment_id)
