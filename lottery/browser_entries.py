"""Entries confirmed in the fan's browser: any card can enter, 3-D Secure ones too.

The server still decides the amount and creates the PaymentIntent (capture_method=manual,
idempotency key `lottery-entry:<id>:create`); the browser only confirms it with the card
typed into Stripe.js, using the client_secret we return. While it does, the row is
'confirming' (not an entry; UNIQUE(drop_id, user_id) still holds the fan's one place).
It becomes 'entered' when Stripe says the authorisation succeeded (requires_capture, or
succeeded on a capture-now drop), seen by the fan's poll or a later request, exactly once
(entries.mark_entered's conditional UPDATE, which also queues the one mail).

A declined card leaves the row and the intent waiting for another card until the window
closes (then the sweeper releases it). Real Stripe confirms the same intent again; where
an intent cannot take a new card (localstripe keeps a failed intent at
requires_payment_method), it is cancelled and one new intent replaces it, recorded only
if the row still names the old one, so at most one intent of an entry can be authorised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import NotFound
from lottery import entries
from lottery.models import LotteryDrop, LotteryEntry
from lottery.payments import AuthorisationDeclined, HeldPayments
from payments.stripe_client import Intent

# The fan has to act in the browser (type a card, authenticate, confirm).
FAN_TURN = {"requires_payment_method", "requires_confirmation", "requires_action"}


@dataclass(frozen=True)
class EntryAttempt:
    entry: LotteryEntry
    payment_status: str | None = None  # the intent's status while the entry is 'confirming'
    client_secret: str | None = None
    reason: str | None = None  # Stripe's words for the last decline


async def _row(sessionmaker: async_sessionmaker[AsyncSession], *, drop_id: int,
               user_id: int) -> LotteryEntry | None:
    async with sessionmaker() as session:
        row: LotteryEntry | None = await session.scalar(select(LotteryEntry).where(
            LotteryEntry.drop_id == drop_id, LotteryEntry.user_id == user_id))
        return row


async def _capture_now(sessionmaker: async_sessionmaker[AsyncSession], drop_id: int) -> bool:
    async with sessionmaker() as session:
        mode = await session.scalar(select(LotteryDrop.capture_mode)
                                    .where(LotteryDrop.drop_id == drop_id))
    return mode == "capture_now"


async def _give_up(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                   entry: LotteryEntry, intent_id: str | None) -> None:
    if intent_id is not None:
        await payments.release(entry.id, intent_id)
    await entries.discard_attempt(sessionmaker, entry.id)


async def _settle(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                  entry: LotteryEntry, intent: Intent, clock: Callable[[], datetime]
                  ) -> EntryAttempt:
    """What Stripe says the intent is, applied to the entry."""
    capture_now = await _capture_now(sessionmaker, entry.drop_id)
    wanted = "succeeded" if capture_now else "requires_capture"
    if intent.status == wanted:
        try:
            await entries.mark_entered(sessionmaker, entry,
                                       "captured" if capture_now else "authorised", clock())
        except entries.EntryWindowClosed:
            await _give_up(sessionmaker, payments, entry, intent.id)
            raise
        async with sessionmaker() as session:
            entered = await session.get(LotteryEntry, entry.id)
        if entered is None:
            raise NotFound("the entry vanished")
        return EntryAttempt(entered)
    if intent.status in FAN_TURN or intent.status == "processing":
        return EntryAttempt(entry, intent.status, intent.client_secret, intent.last_error)
    # canceled (or anything that can no longer authorise): the attempt is over.
    await _give_up(sessionmaker, payments, entry, intent.id)
    raise AuthorisationDeclined(f"the payment could not be completed ({intent.status}); "
                                "nothing is held and you can enter again")


async def _start(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments, *,
                 user_id: int, drop_id: int, tier_id: int, quantity: int,
                 clock: Callable[[], datetime]) -> EntryAttempt:
    async with sessionmaker() as session:
        entry, lottery = await entries.insert_attempt(
            session, user_id=user_id, drop_id=drop_id, tier_id=tier_id, quantity=quantity,
            now=clock(), status="confirming")
    try:
        intent = await payments.new_intent(
            entry_id=entry.id, drop_id=drop_id, amount_cents=entry.amount_cents,
            currency=entry.currency, payment_method=None,
            capture_now=lottery.capture_mode == "capture_now", step="create")
        async with sessionmaker() as session:
            await session.execute(update(LotteryEntry).where(LotteryEntry.id == entry.id)
                                  .values(payment_intent_id=intent.id))
            await session.commit()
    except Exception:
        await entries.discard_attempt(sessionmaker, entry.id)  # nothing can be held yet
        raise
    entry.payment_intent_id = intent.id
    return EntryAttempt(entry, intent.status, intent.client_secret)


async def _another_card(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                        entry: LotteryEntry, intent: Intent, payment_method: str) -> Intent:
    """The entry's intent given the fan's new card, confirmed; replaced if it cannot take one."""
    updated = await payments.attach(intent.id, payment_method)
    if updated.status == "requires_payment_method":
        cancelled = await payments.cancel(entry.id, intent.id)
        if cancelled.status != "canceled":
            return cancelled  # the browser confirmed it meanwhile: settle that
        updated = await payments.new_intent(
            entry_id=entry.id, drop_id=entry.drop_id, amount_cents=entry.amount_cents,
            currency=entry.currency, payment_method=payment_method,
            capture_now=await _capture_now(sessionmaker, entry.drop_id),
            step=f"create-after-{intent.id}")
        async with sessionmaker() as session:
            recorded = await session.scalar(
                update(LotteryEntry).where(LotteryEntry.id == entry.id,
                                           LotteryEntry.payment_intent_id == intent.id)
                .values(payment_intent_id=updated.id).returning(LotteryEntry.id))
            await session.commit()
        if recorded is None:  # a concurrent request replaced it first: keep theirs only
            await payments.cancel(entry.id, updated.id)
            raise AuthorisationDeclined("another attempt with a card is in progress; "
                                        "check your entry in a moment")
        entry.payment_intent_id = updated.id
    if updated.status == "requires_confirmation":
        updated = await payments.confirm(entry.id, updated.id,
                                         step=f"confirm-{updated.id}-{payment_method}")
    return updated


async def enter_in_browser(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments, *, user_id: int,
    drop_id: int, tier_id: int, quantity: int, payment_method: str | None,
    clock: Callable[[], datetime],
) -> EntryAttempt:
    """Start the fan's entry, or carry on with the one their browser is confirming.

    Without a payment method: the intent's client_secret for Stripe.js to confirm. With
    one (localstripe's page, or another card after a decline): the server confirms it,
    and a 3-D Secure card comes back requires_action for the browser to authenticate.
    """
    existing = await _row(sessionmaker, drop_id=drop_id, user_id=user_id)
    if existing is not None and existing.status == "confirming" and \
            existing.payment_intent_id is not None:
        intent = await payments.state(existing.payment_intent_id)
        if payment_method is not None and intent.status == "requires_payment_method":
            intent = await _another_card(sessionmaker, payments, existing, intent,
                                         payment_method)
        return await _settle(sessionmaker, payments, existing, intent, clock)
    if payment_method is None:
        return await _start(sessionmaker, payments, user_id=user_id, drop_id=drop_id,
                            tier_id=tier_id, quantity=quantity, clock=clock)
    entry = await entries.enter_lottery(
        sessionmaker, payments, user_id=user_id, drop_id=drop_id, tier_id=tier_id,
        quantity=quantity, payment_method=payment_method, clock=clock, keep_for_browser=True)
    if entry.status != "confirming" or entry.payment_intent_id is None:
        return EntryAttempt(entry)
    intent = await payments.state(entry.payment_intent_id)
    return EntryAttempt(entry, intent.status, intent.client_secret, intent.last_error)


async def my_attempt(
    sessionmaker: async_sessionmaker[AsyncSession], payments: Callable[[], HeldPayments], *,
    user_id: int, drop_id: int, clock: Callable[[], datetime],
) -> EntryAttempt:
    """The fan's poll: their entry in this lottery, advanced from Stripe's own state.

    `payments` is asked for only when Stripe has to be asked (a 'confirming' row)."""
    row = await _row(sessionmaker, drop_id=drop_id, user_id=user_id)
    if row is None or row.status in {"authorising", "abandoned"}:
        raise NotFound("you have no entry in this lottery")
    if row.status != "confirming" or row.payment_intent_id is None:
        return EntryAttempt(row)
    return await _settle(sessionmaker, payments(), row,
                         await payments().state(row.payment_intent_id), clock)


async def advance_by_intent(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments, intent_id: str, *,
    clock: Callable[[], datetime],
) -> bool:
    """A Stripe webhook named this intent: if it is a confirming entry's, bring the entry up
    to date from Stripe's own reading of the intent (the event body is only a hint).
    True when an entry of ours was looked at."""
    async with sessionmaker() as session:
        row: LotteryEntry | None = await session.scalar(select(LotteryEntry).where(
            LotteryEntry.payment_intent_id == intent_id))
    if row is None or row.status != "confirming":
        return False
    try:
        await _settle(sessionmaker, payments, row, await payments.state(intent_id), clock)
    except (entries.EntryWindowClosed, AuthorisationDeclined):
        pass  # released and forgotten: nothing more for a webhook to do
    return True
