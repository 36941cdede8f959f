"""The outbox and its sender against a real SMTP server process: transactional, exactly
once when nothing dies, retried with backoff while SMTP is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.embedded import free_port
from mail import messages
from mail.models import OutboxMessage
from mail.outbox import enqueue
from mail.sender import BACKOFF_BASE, backoff, send_due
from mail.smtp import MailSettings, message_id
from tests.mail.conftest import DevSmtp

FROM = "TicketQ <tickets@ticketq.test>"
LATER = datetime(2100, 1, 1, tzinfo=UTC)  # every row the tests write is due by then


def verify(user_id: int) -> messages.Message:
    return messages.verify_email(user_id=user_id, to_address=f"fan{user_id}@example.test",
                                 fan_name="Fay", verify_url=f"https://t.test/verify/{user_id}")


def mail_to(server: DevSmtp | str) -> MailSettings:
    url = server if isinstance(server, str) else server.url
    return MailSettings(smtp_url=url, mail_from=FROM, claim_seconds=10)


async def row(sessionmaker: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage:
    async with sessionmaker() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    assert found is not None
    return found


async def test_rolled_back_cause_sends_nothing(
        outbox: async_sessionmaker[AsyncSession], dev_smtp: DevSmtp) -> None:
    async with outbox() as session:
        await enqueue(session, verify(1))
        await session.rollback()
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=LATER) == 0
    assert dev_smtp.mailbox() == []


async def test_committed_mail_is_sent_exactly_once(
        outbox: async_sessionmaker[AsyncSession], dev_smtp: DevSmtp) -> None:
    async with outbox() as session, session.begin():
        outbox_id = await enqueue(session, verify(2))
        # The same cause again: one row, and the caller's transaction carries on.
        assert await enqueue(session, verify(2)) is None
    assert outbox_id is not None
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=LATER) == 1
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=LATER) == 0
    [mail] = dev_smtp.mailbox()
    assert mail.message_id == message_id(outbox_id, FROM) == f"<outbox.{outbox_id}@ticketq.test>"
    assert (mail.to, mail.kind) == ("fan2@example.test", "verify_email")
    assert "https://t.test/verify/2" in mail.text
    assert dev_smtp.received() == [f"{mail.message_id} stored"]
    assert (await row(outbox, "verify_email:2:https://t.test/verify/2")).sent_at == LATER


async def test_smtp_down_is_retried_later_with_backoff(
        outbox: async_sessionmaker[AsyncSession], dev_smtp: DevSmtp) -> None:
    key = "verify_email:3:https://t.test/verify/3"
    async with outbox() as session, session.begin():
        await enqueue(session, verify(3), now=LATER)
    nobody = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    assert await send_due(outbox, mail_to(nobody), worker_id="w", now=LATER) == 1
    failed = await row(outbox, key)
    assert failed.sent_at is None and failed.attempts == 1 and failed.last_error
    assert failed.claimed_by is None
    assert failed.next_attempt_at == LATER + BACKOFF_BASE
    # Not due again before the backoff ends, even with the server back.
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w",
                          now=LATER + BACKOFF_BASE - timedelta(seconds=1)) == 0
    assert await send_due(outbox, mail_to(nobody), worker_id="w", now=LATER + BACKOFF_BASE) == 1
    assert (await row(outbox, key)).next_attempt_at == LATER + BACKOFF_BASE + 2 * BACKOFF_BASE
    later = LATER + 3 * BACKOFF_BASE
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=later) == 1
    sent = await row(outbox, key)
    assert (sent.sent_at, sent.attempts, sent.last_error) == (later, 3, None)
    assert len(dev_smtp.mailbox()) == 1


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30) == timedelta(hours=1)
