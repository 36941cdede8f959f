"""The worker job that empties the outbox: claim due rows, send each over SMTP, mark sent.

Delivery is at-least-once with one narrow, named duplicate window:

- claim: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` takes a batch of
  due rows with a lease (claimed_by, claimed_until) and commits, so two workers never
  hold the same row and a worker that dies releases its rows when the lease lapses.
- send: one SMTP transaction per row, bounded by half the lease.
- mark: `sent_at` is set only after the server accepted the message. A failure clears
  the claim and moves `next_attempt_at` back exponentially (BACKOFF_BASE doubling up to
  BACKOFF_CAP); after MAX_ATTEMPTS the row stays unsent with its last_error, for an
  operator to look at, and is no longer claimed.

The window: a worker that dies after the server said 250 to the final "." and before
its mark-sent commits leaves the row claimed; when the lease lapses another worker
sends it again. SMTP has no way to ask "did you get this?", so no design without the
receiver's help closes that gap. The resend carries the same Message-ID (derived from
the outbox id, mail/smtp.py), so it is recognisable and droppable as a duplicate. At
most one row per worker is in that window at a time (rows are sent one by one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mail.attachments import AttachmentUnavailable, Renderers, render_attachments
from mail.models import OutboxMessage
from mail.smtp import SEND_ERRORS, MailSettings, compose, deliver, parse_smtp_url

log = logging.getLogger("ticketq.mail")

BATCH = 20
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
# 5 s doubling to the 1 h cap: about a day and a half of trying.
MAX_ATTEMPTS = 40
IDLE_POLL_S = 1.0
NO_RENDERERS: Renderers = MappingProxyType({})

_CLAIM = text(
    "UPDATE outbox SET claimed_by = :worker, claimed_until = :until, "
    "attempts = attempts + 1 "
    "WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= :now "
    "AND attempts < :max_attempts AND (claimed_until IS NULL OR claimed_until < :now) "
    "ORDER BY next_attempt_at LIMIT :batch FOR UPDATE SKIP LOCKED) "
    "RETURNING id"
)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 5 s, 10 s, 20 s, ... up to 1 h."""
    doublings: int = min(max(attempts - 1, 0), 20)
    wait: timedelta = BACKOFF_BASE * (2**doublings)
    return min(wait, BACKOFF_CAP)


async def claim(session: AsyncSession, *, worker_id: str, now: datetime,
                lease: timedelta, batch: int = BATCH) -> list[OutboxMessage]:
    ids = list(await session.scalars(_CLAIM, {
        "worker": worker_id, "until": now + lease, "now": now,
        "max_attempts": MAX_ATTEMPTS, "batch": batch}))
    await session.commit()
    if not ids:
        return []
    rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                 .order_by(OutboxMessage.next_attempt_at))
    return list(rows)


async def _mark_sent(sessionmaker: async_sessionmaker[AsyncSession], row_id: str,
                     now: datetime) -> None:
    # Not conditional on still holding the claim: the server has the message either way.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id,
                                        OutboxMessage.sent_at.is_(None))
            .values(sent_at=now, claimed_by=None, claimed_until=None, last_error=None))


async def _mark_failed(sessionmaker: async_sessionmaker[AsyncSession], row: OutboxMessage,
                       worker_id: str, error: str, now: datetime) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id,
                                        OutboxMessage.claimed_by == worker_id,
                                        OutboxMessage.sent_at.is_(None))
            .values(claimed_by=None, claimed_until=None, last_error=error[:1000],
                    next_attempt_at=now + backoff(row.attempts)))


async def send_due(sessionmaker: async_sessionmaker[AsyncSession], mail: MailSettings, *,
                   worker_id: str, now: datetime, batch: int = BATCH,
                   renderers: Renderers = NO_RENDERERS) -> int:
    """Claim and send up to one batch; how many rows were claimed (0: nothing due).

    `renderers` make the rows' attachments (mail/attachments.py); a row whose attachment
    cannot be made fails this attempt and is retried, like an SMTP failure."""
    if not mail.smtp_url:
        return 0
    target = parse_smtp_url(mail.smtp_url)
    async with sessionmaker() as session:
        rows = await claim(session, worker_id=worker_id, now=now,
                           lease=timedelta(seconds=mail.claim_seconds), batch=batch)
    for row in rows:
        try:
            files = await render_attachments(row.attachments, renderers)
        except AttachmentUnavailable as exc:
            log.warning("mail %s: attachment not available (attempt %d): %s", row.id,
                        row.attempts, exc)
            await _mark_failed(sessionmaker, row, worker_id, f"attachment: {exc}", now)
            continue
        try:
            await deliver(compose(row, mail.mail_from, files), target,
                          timeout_s=mail.exchange_timeout_s)
        except SEND_ERRORS as exc:
            log.warning("mail %s to %s failed (attempt %d): %s", row.id, row.to_address,
                        row.attempts, exc)
            await _mark_failed(sessionmaker, row, worker_id, f"{type(exc).__name__}: {exc}", now)
            continue
        await _mark_sent(sessionmaker, row.id, now)
    return len(rows)


async def mail_sender(sessionmaker: async_sessionmaker[AsyncSession], mail: MailSettings,
                      clock: Callable[[], datetime], worker_id: str,
                      renderers: Renderers = NO_RENDERERS) -> None:
    """Runs until cancelled: send what is due, and poll again after a pause when idle."""
    if not mail.smtp_url:
        log.warning("SMTP_URL is not set: mail stays in the outbox until it is")
        return
    while True:
        claimed = await send_due(sessionmaker, mail, worker_id=worker_id, now=clock(),
                                 renderers=renderers)
        if claimed < BATCH:
            await asyncio.sleep(IDLE_POLL_S)
