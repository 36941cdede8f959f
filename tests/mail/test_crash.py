"""A worker killed with SIGKILL while the SMTP server holds its reply: every message still
arrives, and the one resend carries the same Message-ID, so the mailbox keeps it once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from mail.models import OutboxMessage
from mail.outbox import enqueue
from mail.smtp import message_id
from tests.mail.conftest import start_dev_smtp, stop
from tests.mail.test_sender import verify
from tests.support.processes import service_env, worker_process
from tests.support.waiting import eventually

FROM = "TicketQ <tickets@ticketq.test>"


def wait_for(condition: object, what: str, limit_s: float = 60) -> None:
    """A bounded wait for progress (not a timing assertion): fails only if it never happens."""
    deadline = time.monotonic() + limit_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


@pytest.mark.slow
async def test_sigkill_mid_send_loses_nothing_and_resends_recognisably(
        outbox: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path) -> None:
    ids = []
    async with outbox() as session, session.begin():
        for user_id in range(100, 105):
            ids.append(await enqueue(session, verify(user_id)))
    # Each message is kept at once, its 250 held back 2 s: the worker's duplicate window.
    server = start_dev_smtp(tmp_path / "mailbox", reply_delay_s=2)
    env = service_env(settings.redis_url or "", settings.database_url or "",
                      SMTP_URL=server.url, TICKETQ_MAIL_FROM=FROM,
                      TICKETQ_MAIL_CLAIM_SECONDS="6", TICKETQ_HOME=str(tmp_path / "home"))
    try:
        with worker_process(env, tmp_path, "first", only=("mail",)) as first:
            wait_for(lambda: len(server.received()) >= 2, "a second message in DATA")
            os.kill(first.process.pid, signal.SIGKILL)
            first.process.wait(10)
        in_flight = server.received()[-1].split()[0]
        with worker_process(env, tmp_path, "second", only=("mail",)):
            async def all_sent() -> bool:
                async with outbox() as session:
                    unsent = await session.scalar(select(func.count()).select_from(
                        OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
                return unsent == 0
            await eventually(all_sent, timeout_s=90, interval_s=0.2,
                             message="the second worker to send every message")
        wanted = {message_id(str(outbox_id), FROM) for outbox_id in ids}
        kept = [mail.message_id for mail in server.mailbox()]
        assert sorted(kept) == sorted(wanted)  # every one, none twice
        resent = [line.split()[0] for line in server.received() if line.endswith("duplicate")]
        # The message whose 250 the dead worker never read came twice, and was dropped.
        assert resent == [in_flight]
    finally:
        stop(server.process)
