"""The causes' one-line entry points: read the plain values, build the message, enqueue.

Purchase and lottery call these inside the transaction that makes the change (one line
each). They read only core tables (users, events, venues, drops) and take the other
parts' facts as plain values, so mail imports nothing of purchase or lottery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import DriverConnection
from core.models import Drop, Event, SoldOrder, User, Venue
from mail import messages
from mail.outbox import enqueue, enqueue_on


async def _event_facts(session: AsyncSession, event_id: int) -> messages.EventFacts:
    event = await session.get(Event, event_id)
    assert event is not None
    venue = await session.get(Venue, event.venue_id)
    assert venue is not None
    return messages.EventFacts(title=event.title, venue_name=venue.name,
                               starts_at=event.starts_at, timezone=venue.timezone)


async def _fan(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def _order_facts(session: AsyncSession, order: SoldOrder
                       ) -> tuple[str, str, messages.EventFacts]:
    """(fan's address, fan's name, event facts) of an order in one SELECT: these mails are
    written inside the paid order's commit, where each extra round trip is felt."""
    row = (await session.execute(
        select(User.email, User.name, Event.title, Event.starts_at, Venue.name, Venue.timezone)
        .select_from(User).join(Event, Event.id == order.event_id)
        .join(Venue, Venue.id == Event.venue_id).where(User.id == order.user_id))).one()
    return row[0], row[1], messages.EventFacts(title=row[2], starts_at=row[3],
                                                venue_name=row[4], timezone=row[5])


def _order_confirmation(order: SoldOrder, address: str, name: str,
                        event: messages.EventFacts) -> messages.Message:
    ticket_count = sum(int(item.get("quantity", 0)) for item in order.items)
    return messages.order_confirmation(
        order_id=order.id, to_address=address, fan_name=name, event=event,
        amount_cents=order.total_cents, currency=order.currency, ticket_count=ticket_count)


async def order_paid(session: AsyncSession, order: SoldOrder) -> None:
    await enqueue(session, _order_confirmation(order, *await _order_facts(session, order)))


# `_order_facts` by order id, as SQL for the paid order's psycopg connection (core.db):
# settlement sends it with the order's lock, so it costs no round trip of its own.
ORDER_FACTS = (
    "SELECT u.email, u.name, e.title, e.starts_at, v.name, v.timezone FROM orders o "
    "JOIN users u ON u.id = o.user_id JOIN events e ON e.id = o.event_id "
    "JOIN venues v ON v.id = e.venue_id WHERE o.id = %(order_id)s")


async def order_paid_on(conn: DriverConnection, order: SoldOrder,
                        facts: Sequence[Any] | None = None) -> None:
    """`order_paid` in the transaction of `conn`; `facts` is ORDER_FACTS's row if the
    caller read it already."""
    if facts is None:
        facts = await (await conn.execute(ORDER_FACTS, {"order_id": order.id})).fetchone()
    assert facts is not None
    email, name, title, starts_at, venue_name, timezone = facts
    await enqueue_on(conn, _order_confirmation(order, email, name, messages.EventFacts(
        title=title, starts_at=starts_at, venue_name=venue_name, timezone=timezone)))


async def order_refunded(session: AsyncSession, order: SoldOrder, reason: str) -> None:
    address, name, event = await _order_facts(session, order)
    await enqueue(session, messages.order_refunded(
        order_id=order.id, to_address=address, fan_name=name, event=event,
        amount_cents=order.total_cents, currency=order.currency, reason=reason))


async def _drop_event(session: AsyncSession, drop_id: int) -> messages.EventFacts:
    drop = await session.get(Drop, drop_id)
    assert drop is not None
    return await _event_facts(session, drop.event_id)


async def lottery_entry_received(session: AsyncSession, *, entry_id: str, user_id: int,
                                 drop_id: int, quantity: int, amount_cents: int,
                                 currency: str) -> None:
    fan = await _fan(session, user_id)
    await enqueue(session, messages.lottery_entry_received(
        entry_id=entry_id, to_address=fan.email, fan_name=fan.name,
        event=await _drop_event(session, drop_id), amount_cents=amount_cents,
        currency=currency, quantity=quantity))


async def lottery_result(session: AsyncSession, *, entry_id: str, user_id: int, drop_id: int,
                         won: bool, note: str, amount_cents: int, currency: str,
                         order_id: str | None = None) -> None:
    fan = await _fan(session, user_id)
    await enqueue(session, messages.lottery_result(
        entry_id=entry_id, won=won, to_address=fan.email, fan_name=fan.name,
        event=await _drop_event(session, drop_id), amount_cents=amount_cents,
        currency=currency, note=note, order_id=order_id))


async def email_verification(session: AsyncSession, user: User, verify_url: str) -> None:
    """The sign-up's (or a resend's) verification link, in the caller's transaction."""
    await enqueue(session, messages.verify_email(
        user_id=user.id, to_address=user.email, fan_name=user.name, verify_url=verify_url))


async def password_reset(session: AsyncSession, user: User, reset_url: str, *,
                         ttl_minutes: int) -> None:
    """A password reset link (accounts/password_reset.py), in the request's transaction."""
    await enqueue(session, messages.password_reset(
        user_id=user.id, to_address=user.email, fan_name=user.name, reset_url=reset_url,
        ttl_minutes=ttl_minutes))


async def email_change_link(session: AsyncSession, user: User, *, new_address: str,
                            confirm_url: str) -> None:
    """An email change's link, to the NEW address (accounts/email_change.py)."""
    await enqueue(session, messages.email_change_verify(
        user_id=user.id, to_address=new_address, fan_name=user.name, confirm_url=confirm_url))


async def email_change_notice(session: AsyncSession, user: User, *, new_address: str,
                              confirm_url: str) -> None:
    """An email change's notice, to the OLD address: no link, only what is happening."""
    await enqueue(session, messages.email_change_notice(
        user_id=user.id, to_address=user.email, fan_name=user.name, new_address=new_address,
        confirm_url=confirm_url))


async def staff_invitation(session: AsyncSession, *, invitation_id: int, to_address: str,
                           venue_id: int, role: str, invited_by: int, accept_url: str,
                           expires_at: datetime) -> None:
    """An invitation to be staff of a venue (catalog/invitations.py), to an address that
    may not have an account yet."""
    venue = await session.get(Venue, venue_id)
    assert venue is not None
    inviter = await _fan(session, invited_by)
    await enqueue(session, messages.staff_invitation(
        invitation_id=invitation_id, to_address=to_address, inviter_name=inviter.name,
        venue_name=venue.name, venue_city=venue.city, role=role, accept_url=accept_url,
        expires_at=expires_at))
