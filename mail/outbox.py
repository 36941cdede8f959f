"""Enqueue: write an email to the outbox inside the caller's transaction, nothing more.

`enqueue` neither commits nor opens a transaction: the row commits with the change that
caused it or rolls back with it, so a fan is never told about an order that did not
happen, and never left untold about one that did. The INSERT is ON CONFLICT DO NOTHING
on `dedupe_key`, so a cause that runs twice (a retried settlement) enqueues once and
never aborts the caller's transaction with a unique violation.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import DriverConnection
from mail.messages import Message
from mail.models import OutboxMessage

# Deleted accounts' addresses (bootstrap/account_data.py) end in this RFC 2606 domain: no
# mailbox exists there, so mail to them is never written, rather than bounced for ever.
DELETED_DOMAIN = "deleted.invalid"


def _row(message: Message) -> dict[str, object] | None:
    """The outbox row's values, or None when the address is a deleted account's."""
    if message.to_address.endswith(f"@{DELETED_DOMAIN}"):
        return None
    return {
        "id": str(uuid.uuid4()), "kind": message.kind, "dedupe_key": message.dedupe_key,
        "to_address": message.to_address, "subject": message.subject,
        "text_body": message.text_body, "html_body": message.html_body,
        "attachments": list(message.attachments),
    }


async def enqueue(session: AsyncSession, message: Message, *,
                  now: datetime | None = None) -> str | None:
    """The new row's id, or None when this cause was enqueued before (or the address is a
    deleted account's)."""
    values = _row(message)
    if values is None:
        return None
    if now is not None:  # else the database's now(): due at once
        values["next_attempt_at"] = now
    inserted: str | None = await session.scalar(
        insert(OutboxMessage).values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id))
    return inserted


# `enqueue` for the paid order's transaction on its psycopg connection (core.db): the
# same row and the same ON CONFLICT, sent without waiting for its answer (due at once).
ENQUEUE = (
    "INSERT INTO outbox (id, kind, dedupe_key, to_address, subject, text_body, html_body, "
    "attachments) VALUES (%(id)s, %(kind)s, %(dedupe_key)s, %(to_address)s, %(subject)s, "
    "%(text_body)s, %(html_body)s, %(attachments)s) ON CONFLICT (dedupe_key) DO NOTHING")


async def enqueue_on(conn: DriverConnection, message: Message) -> None:
    values = _row(message)
    if values is not None:
        await conn.execute(ENQUEUE, {**values, "attachments": Jsonb(values["attachments"])})
