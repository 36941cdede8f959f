"""The development mailbox (/dev/mail.json); absent in production."""

from __future__ import annotations

from gateway.schemas.base import ResponseBody


class MailAttachment(ResponseBody):
    filename: str
    content_type: str


class DevMailMessage(ResponseBody):
    to: str
    subject: str
    sent_at: str  # when the dev SMTP server accepted it (ISO 8601, UTC)
    kind: str | None  # e.g. "order_confirmation"; None for mail TicketQ did not send
    message_id: str
    text: str
    attachments: list[MailAttachment]


class DevMailbox(ResponseBody):
    messages: list[DevMailMessage]
