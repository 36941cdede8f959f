"""Settling a drawn lottery: each entry's money ends in exactly one place, exactly once.

Per entry, a state machine in Postgres: settlement pending -> working -> done.

- claim: a conditional UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED` moves a
  batch to 'working' with a lease (claimed_by, claim_expires_at); workers never
  claim the same entry, and a lease that expires (its worker died) makes the
  entry claimable again.
- winner: capture the hold (idempotency key from the entry id; a capture that
  already happened is read back, not repeated), then ONE transaction creates
  the paid order, issues tickets through the ledger's capacity guard and marks
  the entry done. The order id derives from the entry id, so even two workers
  racing past an expired lease cannot issue tickets twice. TierFull rolls that
  back and refunds: the seats went elsewhere since the draw.
- loser: cancel the hold (free for the fan); anything captured is refunded.
- every finishing UPDATE is conditional on still holding the claim.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Drop, Order, Payment
from lottery.models import LotteryDrop, LotteryEntry, entry_items
from lottery.payments import CAPTURE_FAILED, HeldPayments
from mail import causes as mail_causes
from payments.errors import PaymentsUnavailable
from purchase.ledger import TierFull, issue_tickets

log = logging.getLogger("ticketq.lottery")

ORDER_NAMESPACE = uuid.UUID("6f1c1f55-8a3e-4e0b-9d52-6c1b3c2a7a10")

_CLAIM = text(
    "UPDATE lottery_entries SET settlement = 'working', claimed_by = :worker, "
    "claim_expires_at = :expires, attempts = attempts + 1, updated_at = now() "
    "WHERE id IN (SELECT id FROM lottery_entries WHERE drop_id = :drop_id "
    "AND status IN ('won', 'lost') AND (settlement = 'pending' OR "
    "(settlement = 'working' AND claim_expires_at < :now)) "
    "ORDER BY rank LIMIT :batch FOR UPDATE SKIP LOCKED) "
    "RETURNING id"
)


@dataclass(frozen=True)
class SettleOptions:
    worker_id: str
    batch: int = 100
    concurrency: int = 8
    lease: timedelta = timedelta(seconds=60)


def order_id_for(entry_id: str) -> str:
    return str(uuid.uuid5(ORDER_NAMESPACE, f"lottery-entry:{entry_id}"))


async def claim(session: AsyncSession, drop_id: int, options: SettleOptions,
                now: datetime) -> list[LotteryEntry]:
    ids = list(await session.scalars(_CLAIM, {
        "worker": options.worker_id, "expires": now + options.lease, "drop_id": drop_id,
        "now": now, "batch": options.batch}))
    await session.commit()
    if not ids:
        return []
    rows = await session.scalars(select(LotteryEntry).where(LotteryEntry.id.in_(ids)))
    return list(rows)


async def _finish(session: AsyncSession, entry: LotteryEntry, worker_id: str, *, money: str,
                  now: datetime, note: str | None, order_id: str | None = None) -> bool:
    done = await session.scalar(
        update(LotteryEntry)
        .where(LotteryEntry.id == entry.id, LotteryEntry.settlement == "working",
               LotteryEntry.claimed_by == worker_id)
        .values(settlement="done", money=money, note=note, order_id=order_id, settled_at=now,
                claimed_by=None, claim_expires_at=None)
        .returning(LotteryEntry.id))
    if done is not None:  # one result mail per entry, in the transaction that settles it
        await mail_causes.lottery_result(
            session, entry_id=entry.id, user_id=entry.user_id, drop_id=entry.drop_id,
            won=money == "captured" and order_id is not None, note=note or "",
            amount_cents=entry.amount_cents, currency=entry.currency, order_id=order_id)
    return done is not None


async def _issue(sessionmaker: async_sessionmaker[AsyncSession], entry: LotteryEntry,
                 event_id: int, worker_id: str, now: datetime) -> bool:
    """The winner's order, tickets and payment record, in one transaction. False if lost claim."""
    async with sessionmaker() as session:
        order = Order(id=order_id_for(entry.id), user_id=entry.user_id, event_id=event_id,
                      drop_id=entry.drop_id, hold_id=None, items=entry_items(entry),
                      total_cents=entry.amount_cents, currency=entry.currency, state="paid",
                      reason="won the lottery draw", paid_at=now)
        session.add(order)
        await session.flush()
        session.add(Payment(order_id=order.id, stripe_payment_intent_id=entry.payment_intent_id,
                            amount_cents=entry.amount_cents, currency=entry.currency,
                            status="succeeded"))
        if not await _finish(session, entry, worker_id, money="captured", now=now,
                             note="you won: tickets issued", order_id=order.id):
            await session.rollback()
            return False
        # Last before COMMIT: the tier's row stays locked only from here to the commit.
        await issue_tickets(session, order)
        await session.commit()
        return True


async def _settle_winner(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                         entry: LotteryEntry, event_id: int, options: SettleOptions,
                         now: datetime) -> None:
    assert entry.payment_intent_id is not None
    # Drops that charge on entry (capture_now) have nothing left to capture.
    status = "succeeded" if entry.money == "captured" else \
        await payments.capture(entry.id, entry.payment_intent_id)
    if status not in CAPTURE_FAILED | {"succeeded"}:
        raise PaymentsUnavailable(f"payment {entry.payment_intent_id} is {status}; retry later")
    if status != "succeeded":
        async with sessionmaker() as session:
            await _finish(session, entry, options.worker_id, money="failed", now=now,
                          note=f"you won, but the card hold could not be captured ({status}); "
                               "nothing was charged and no tickets were issued")
            await session.commit()
        return
    try:
        await _issue(sessionmaker, entry, event_id, options.worker_id, now)
        return
    except TierFull:
        note = "you won, but the tier sold out before settlement; your payment was refunded"
    except IntegrityError:
        # The order already exists: another worker issued these tickets past our lease.
        return
    await payments.release(entry.id, entry.payment_intent_id, held=False)
    async with sessionmaker() as session:
        session.add(Payment(order_id=None, stripe_payment_intent_id=entry.payment_intent_id,
                            amount_cents=entry.amount_cents, currency=entry.currency,
                            status="refunded", refunded_cents=entry.amount_cents))
        if await _finish(session, entry, options.worker_id, money="refunded", now=now, note=note):
            await session.commit()


async def _settle_loser(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                        entry: LotteryEntry, options: SettleOptions, now: datetime) -> None:
    assert entry.payment_intent_id is not None
    money = await payments.release(entry.id, entry.payment_intent_id,
                                   held=entry.money == "authorised")
    note = ("not drawn this time; the hold on your card was cancelled, nothing was charged"
            if money == "released" else "not drawn this time; your payment was refunded")
    async with sessionmaker() as session:
        await _finish(session, entry, options.worker_id, money=money, now=now, note=note)
        await session.commit()


async def settle_batch(sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments,
                       drop_id: int, options: SettleOptions, now: datetime) -> int:
    """Claim and settle up to one batch; how many entries were claimed (0: nothing left)."""
    async with sessionmaker() as session:
        drop = await session.get(Drop, drop_id)
        assert drop is not None
        entries = await claim(session, drop_id, options, now)
    gate = asyncio.Semaphore(options.concurrency)

    async def settle_one(entry: LotteryEntry) -> None:
        async with gate:
            try:
                if entry.status == "won":
                    await _settle_winner(sessionmaker, payments, entry, drop.event_id, options, now)
                else:
                    await _settle_loser(sessionmaker, payments, entry, options, now)
            except Exception:
                # The claim lapses and another pass retries this entry from where it stands.
                log.exception("settling lottery entry %s failed; it will be retried", entry.id)

    await asyncio.gather(*(settle_one(entry) for entry in entries))
    return len(entries)


async def finish_if_settled(session: AsyncSession, drop_id: int, now: datetime) -> bool:
    """Mark the lottery settled once no entry is left to settle."""
    open_entries = await session.scalar(
        select(func.count()).select_from(LotteryEntry).where(
            LotteryEntry.drop_id == drop_id, LotteryEntry.status.in_(["won", "lost"]),
            LotteryEntry.settlement != "done"))
    if open_entries:
        return False
    settled = await session.scalar(
        update(LotteryDrop).where(LotteryDrop.drop_id == drop_id, LotteryDrop.state == "drawn")
        .values(state="settled", settled_at=now).returning(LotteryDrop.drop_id))
    await session.commit()
    return settled is not None
