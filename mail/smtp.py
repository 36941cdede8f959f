"""One outbox row -> one RFC 5322 message -> one SMTP transaction (aiosmtplib).

The Message-ID derives from the outbox id (`<outbox.<id>@<from domain>>`), so the one
resend the outbox can make (see mail/sender.py) carries the same id as the first copy,
and a receiving system, or a person, can recognise and drop it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from core.settings import Settings
from mail.attachments import RenderedAttachment
from mail.models import OutboxMessage

# What a failed attempt raises: refusals and protocol errors, resets, timeouts.
SEND_ERRORS: tuple[type[Exception], ...] = (aiosmtplib.SMTPException, OSError,
                                            asyncio.TimeoutError)


@dataclass(frozen=True)
class MailSettings:
    """What the sender needs; built once from Settings (`from_settings`)."""

    smtp_url: str | None
    mail_from: str
    claim_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        return cls(smtp_url=settings.smtp_url, mail_from=settings.mail_from,
                   claim_seconds=settings.mail_claim_seconds)

    @property
    def exchange_timeout_s(self) -> float:
        # Half the claim: an exchange still running when the claim lapses would race a
        # second worker's resend of the same row.
        return self.claim_seconds / 2


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:password@]host[:port]` (STARTTLS if offered) or `smtps://` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
    use_tls = parts.scheme == "smtps"
    return SmtpTarget(host=parts.hostname, port=parts.port or (465 if use_tls else 25),
                      use_tls=use_tls,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None)


def message_id(outbox_id: str, mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "ticketq.localhost"
    return f"<outbox.{outbox_id}@{domain}>"


def compose(row: OutboxMessage, mail_from: str,
            attachments: Sequence[RenderedAttachment] = ()) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = row.to_address
    email["Subject"] = row.subject
    email["Date"] = format_datetime(row.created_at)
    email["Message-ID"] = message_id(row.id, mail_from)
    # For the dev mailbox and for support: which kind of mail this is.
    email["X-TicketQ-Kind"] = row.kind
    email.set_content(row.text_body)
    if row.html_body:
        email.add_alternative(row.html_body, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                             filename=attachment.filename)
    return email


async def deliver(email: EmailMessage, target: SmtpTarget, *, timeout_s: float) -> None:
    """One SMTP transaction; raises on anything but acceptance of every recipient."""
    await aiosmtplib.send(email, hostname=target.host, port=target.port,
                          username=target.username, password=target.password,
                          use_tls=target.use_tls, timeout=timeout_s)
