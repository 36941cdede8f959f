"""The development mailbox: a folder of .eml files that mail.dev_smtp writes and the
gateway's /dev/mail reads. Not for production (the gateway serves it only outside it).

One file per Message-ID, created atomically and never overwritten: a second copy of a
message (the outbox's one resend window, see mail/sender.py) is recognised and dropped,
as a receiving system that deduplicates by Message-ID would.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path


def mailbox_folder(home: Path) -> Path:
    """Where the demo's dev SMTP server keeps messages: `$TICKETQ_HOME/mail`."""
    return home / "mail"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str


@dataclass(frozen=True)
class StoredMail:
    message_id: str
    to: str
    subject: str
    sent_at: str  # when the dev server accepted it (ISO 8601, UTC)
    kind: str | None
    text: str
    attachments: list[Attachment]


def _file_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<>"))[:200] + ".eml"


def store(folder: Path, raw: bytes, *, message_id: str, received_at: datetime) -> bool:
    """Keep one copy of a message; False when this Message-ID is kept already."""
    messages = folder / "messages"
    messages.mkdir(parents=True, exist_ok=True)
    final = messages / _file_name(message_id or f"<no-id.{uuid.uuid4()}@dev>")
    temporary = messages / f".{uuid.uuid4()}.tmp"
    stamp = f"X-TicketQ-Received: {received_at.isoformat()}\r\n".encode()
    temporary.write_bytes(stamp + raw)
    try:
        # link() never replaces an existing file: exactly one copy wins, complete.
        os.link(temporary, final)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink()


def _read(path: Path) -> StoredMail:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(preferencelist=("plain",))
    attachments = [Attachment(filename=part.get_filename() or "",
                              content_type=part.get_content_type())
                   for part in parsed.iter_attachments()]
    return StoredMail(
        message_id=str(parsed.get("Message-ID", "")), to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")), sent_at=str(parsed.get("X-TicketQ-Received", "")),
        kind=str(parsed["X-TicketQ-Kind"]) if parsed["X-TicketQ-Kind"] else None,
        text=body.get_content() if body is not None else "", attachments=attachments)


def read_mailbox(folder: Path, *, limit: int = 200) -> list[StoredMail]:
    """The newest `limit` messages, newest first; an absent folder is an empty mailbox."""
    messages = folder / "messages"
    if not messages.is_dir():
        return []
    mails = [_read(path) for path in messages.glob("*.eml")]
    mails.sort(key=lambda mail: mail.sent_at, reverse=True)
    return mails[:limit]
