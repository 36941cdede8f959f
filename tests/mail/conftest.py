"""A real dev SMTP server process (aiosmtpd, mail.dev_smtp) on loopback, and an empty outbox."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mail.dev_smtp import READY_LINE
from mail.mailbox import StoredMail, read_mailbox
from mail.models import OutboxMessage
from tests.support.processes import ROOT


@dataclass
class DevSmtp:
    folder: Path
    url: str
    process: subprocess.Popen[str]

    def mailbox(self) -> list[StoredMail]:
        return read_mailbox(self.folder)

    def received(self) -> list[str]:
        log = self.folder / "received.log"
        return log.read_text().splitlines() if log.exists() else []


def start_dev_smtp(folder: Path, *, reply_delay_s: float = 0) -> DevSmtp:
    process = subprocess.Popen(
        [sys.executable, "-m", "mail.dev_smtp", "--folder", str(folder), "--port", "0",
         "--reply-delay", str(reply_delay_s)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until it listens (or dies)
    assert READY_LINE in line, line
    return DevSmtp(folder, line.split()[4], process)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def dev_smtp(tmp_path: Path) -> Iterator[DevSmtp]:
    server = start_dev_smtp(tmp_path / "mailbox")
    yield server
    stop(server.process)


@pytest.fixture
async def outbox(sessionmaker: async_sessionmaker[AsyncSession]
                 ) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The run's outbox, emptied, so a test sees only the rows it wrote."""
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(OutboxMessage))
    yield sessionmaker
