"""Entering a lottery: one entry per fan per drop, and it exists only once the card said yes.

The steps, each committed before the next so a crash leaves a state the
sweeper (sweep_abandoned) can finish:

1. insert the entry as 'authorising' (UNIQUE(drop_id, user_id): of concurrent
   requests exactly one gets past this line, before any money moves);
2. create an unconfirmed PaymentIntent (capture_method=manual) and record its id;
3. confirm it: anything but `requires_capture` (or `succeeded` when the drop
   charges on entry) deletes the row, and whatever was held is released;
4. mark the entry 'entered' while holding the lottery row FOR KEY SHARE and
   seeing it still open, so an entry can never slip in after the list is sealed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import visible_drop
from core.drop_phase import DropPhase, drop_phase
from core.errors import Busy, Conflict, Invalid, NotAuthenticated, NotFound
from core.models import Drop
from lottery.config import lottery_for_view
from lottery.models import LotteryDrop, LotteryEntry
from lottery.payments import AuthorisationDeclined, HeldPayments
from mail import causes as mail_causes

log = logging.getLogger("ticketq.lottery")

# An 'authorising' row older than this belongs to a request that died; the sweeper releases it.
ABANDON_AFTER = timedelta(minutes=2)


class AlreadyEntered(Conflict):
    """One entry per fan per drop."""


class EntryWindowClosed(Conflict):
    """Entries are accepted only while the drop's window is open."""


async def insert_attempt(
    session: AsyncSession, *, user_id: int, drop_id: int, tier_id: int, quantity: int,
    now: datetime, status: str = "authorising",
) -> tuple[LotteryEntry, LotteryDrop]:
    view = await visible_drop(session, None, drop_id)
    lottery = await lottery_for_view(session, view)
    if lottery.state != "open" or drop_phase(view.drop, now) != DropPhase.OPEN:
        raise EntryWindowClosed("the entry window is not open",
                                opens_at=view.drop.opens_at.isoformat(),
                                closes_at=view.drop.closes_at.isoformat())
    tier = next((t for t in view.tiers if t.id == tier_id), None)
    if tier is None:
        raise Invalid("tier_id is not a tier of this drop's event")
    limit = min(lottery.max_quantity_per_entry, tier.per_fan_limit)
    if not 1 <= quantity <= limit:
        raise Invalid(f"quantity must be between 1 and {limit} for this tier")
    if tier.price_cents <= 0:
        raise Invalid("this tier is free; lottery entries hold a payment, so it cannot be drawn")
    entry_id = str(uuid.uuid4())
    try:
        inserted = await session.scalar(
            insert(LotteryEntry).values(
                id=entry_id, drop_id=drop_id, user_id=user_id, tier_id=tier_id,
                quantity=quantity, unit_price_cents=tier.price_cents,
                amount_cents=tier.price_cents * quantity, currency=tier.currency,
                status=status, settlement="pending", money="none",
            ).on_conflict_do_nothing(index_elements=["drop_id", "user_id"])
            .returning(LotteryEntry.id))
    except IntegrityError as exc:  # the signed token outlived its account
        await session.rollback()
        raise NotAuthenticated("this account no longer exists; sign in again") from exc
    if inserted is None:
        existing = await session.scalar(select(LotteryEntry).where(
            LotteryEntry.drop_id == drop_id, LotteryEntry.user_id == user_id))
        if existing is not None and existing.status in {"authorising", "confirming", "abandoned"}:
            raise AlreadyEntered("your entry's payment is still being authorised; "
                                 "check your entries in a minute", entry_id=existing.id)
        raise AlreadyEntered("you have already entered this lottery (one entry per fan)",
                             entry_id=existing.id if existing else None)
    await session.commit()
    entry = await session.get(LotteryEntry, entry_id)
    assert entry is not None
    return entry, lottery


# Not entries yet: an attempt in one of these may still be given up (and its row deleted).
UNFINISHED = ("authorising", "confirming")


async def discard_attempt(sessionmaker: async_sessionmaker[AsyncSession], entry_id: str) -> None:
    async with sessionmaker() as session:
        await session.execute(delete(LotteryEntry).where(
            LotteryEntry.id == entry_id, LotteryEntry.status.in_(UNFINISHED)))
        await session.commit()


async def mark_entered(
    sessionmaker: async_sessionmaker[AsyncSession], entry: LotteryEntry, money: str, now: datetime
) -> None:
    async with sessionmaker() as session:
        lottery = await session.scalar(select(LotteryDrop).where(
            LotteryDrop.drop_id == entry.drop_id).with_for_update(key_share=True))
        drop = await session.get(Drop, entry.drop_id)
        if lottery is None or drop is None or lottery.state != "open" or \
                drop_phase(drop, now) != DropPhase.OPEN:
            raise EntryWindowClosed("the entry window closed while your card was being "
                                    "authorised; the hold has been released")
        entered = await session.scalar(
            update(LotteryEntry)
            .where(LotteryEntry.id == entry.id, LotteryEntry.status.in_(UNFINISHED))
            .values(status="entered", money=money, entered_at=now)
            .returning(LotteryEntry.id))
        if entered is None and await session.scalar(select(LotteryEntry.status).where(
                LotteryEntry.id == entry.id)) == "entered":
            return  # the fan's poll and the browser's request raced: entered (and mailed) once
        if entered is None:
            raise Busy("the card took too long to answer and the attempt was abandoned; "
                       "its hold is being released, try again in a minute", retry_after_s=60)
        await mail_causes.lottery_entry_received(
            session, entry_id=entry.id, user_id=entry.user_id, drop_id=entry.drop_id,
            quantity=entry.quantity, amount_cents=entry.amount_cents, currency=entry.currency)
        await session.commit()


async def enter_lottery(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments, *, user_id: int,
    drop_id: int, tier_id: int, quantity: int, payment_method: str,
    clock: Callable[[], datetime], keep_for_browser: bool = False,
) -> LotteryEntry:
    """Enter with a payment method the server confirms while the fan waits.

    keep_for_browser: a card that asks for 3-D Secure (requires_action) keeps the row as
    'confirming' for the fan's browser to authenticate (lottery.browser_entries), instead
    of the 402 an unattended client gets.
    """
    async with sessionmaker() as session:
        entry, lottery = await insert_attempt(
            session, user_id=user_id, drop_id=drop_id, tier_id=tier_id, quantity=quantity,
            now=clock())
        capture_now = lottery.capture_mode == "capture_now"
    intent_id: str | None = None
    try:
        intent_id = await payments.create_intent(
            entry_id=entry.id, drop_id=drop_id, amount_cents=entry.amount_cents,
            currency=entry.currency, payment_method=payment_method, capture_now=capture_now)
        async with sessionmaker() as session:
            await session.execute(update(LotteryEntry).where(LotteryEntry.id == entry.id)
                                  .values(payment_intent_id=intent_id))
            await session.commit()
        intent = await payments.confirm(entry.id, intent_id)
        wanted = "succeeded" if capture_now else "requires_capture"
        if keep_for_browser and intent.status == "requires_action":
            async with sessionmaker() as session:
                await session.execute(update(LotteryEntry).where(LotteryEntry.id == entry.id)
                                      .values(status="confirming"))
                await session.commit()
            entry.status, entry.payment_intent_id = "confirming", intent_id
            return entry
        if intent.status != wanted:
            why = (f"your card was declined ({intent.last_error})" if intent.last_error else
                   f"the card could not be authorised without an extra step ({intent.status})")
            raise AuthorisationDeclined(f"{why}; nothing is held and you can try another card")
        money = "captured" if capture_now else "authorised"
        await mark_entered(sessionmaker, entry, money, clock())
    except Exception:
        # Give back whatever is held, then forget the attempt; if this fails too,
        # the row stays 'authorising' and the sweeper finishes the job.
        try:
            if intent_id is not None:
                await payments.release(entry.id, intent_id)
            await discard_attempt(sessionmaker, entry.id)
        except Exception:
            log.exception("could not release lottery entry %s; the sweeper will", entry.id)
        raise
    async with sessionmaker() as session:
        entered = await session.get(LotteryEntry, entry.id)
    if entered is None:
        raise NotFound("the entry vanished")
    return entered


async def my_entries(session: AsyncSession, user_id: int) -> list[LotteryEntry]:
    rows = await session.scalars(
        select(LotteryEntry)
        .where(LotteryEntry.user_id == user_id,
               LotteryEntry.status.in_(["entered", "won", "lost"]))
        .order_by(LotteryEntry.created_at.desc()))
    return list(rows)


async def sweep_abandoned(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments | None, *,
    now: datetime, limit: int = 100,
) -> int:
    """Release the money of entry attempts whose request died half-way, and of browser
    attempts still unconfirmed when the window closed; the rows go away."""
    async with sessionmaker() as session:
        # Claim first ('abandoned'), so a request finishing late cannot turn it into an entry.
        await session.execute(
            update(LotteryEntry)
            .where(LotteryEntry.status == "authorising",
                   LotteryEntry.updated_at < now - ABANDON_AFTER)
            .values(status="abandoned"))
        # A browser's attempt waits for the fan until the entry window closes, no longer.
        await session.execute(
            update(LotteryEntry)
            .where(LotteryEntry.status == "confirming",
                   LotteryEntry.drop_id.in_(select(Drop.id).where(Drop.closes_at <= now)))
            .values(status="abandoned"))
        await session.commit()
        rows = list(await session.scalars(
            select(LotteryEntry).where(LotteryEntry.status == "abandoned").limit(limit)))
    released = 0
    for entry in rows:
        if entry.payment_intent_id is not None:
            if payments is None:
                continue
            await payments.release(entry.id, entry.payment_intent_id)
        async with sessionmaker() as session:
            await session.execute(delete(LotteryEntry).where(
                LotteryEntry.id == entry.id, LotteryEntry.status == "abandoned"))
            await session.commit()
        released += 1
    return released
