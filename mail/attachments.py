"""Attachments made when a mail is sent, not when it is enqueued.

An outbox row's `attachments` names what goes with the message, never its bytes:
`{"filename", "content_type", "render": <renderer name>, ...its ids}`, e.g. the tickets
PDF of an order, `{"render": "tickets_pdf", "order_id": ...}`. The bytes come from a
renderer that the worker's composition root (ticketq/worker.py) hands to the sender.
That keeps the layers: the PDF and its signed QR codes are the scanner's, and the
scanner sits above mail, so mail only knows renderers by name.

A row whose attachment cannot be made (no such renderer in this worker, or the renderer
failed) is not sent without it and not lost: the attempt fails like an SMTP failure,
with `last_error` saying why, and is retried with backoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TICKETS_PDF = "tickets_pdf"

# Given the row's attachment entry, returns the file's bytes.
Renderer = Callable[[Mapping[str, Any]], Awaitable[bytes]]
Renderers = Mapping[str, Renderer]


class AttachmentUnavailable(Exception):
    """This attachment cannot be made now; `str(exc)` goes to the row's last_error."""


@dataclass(frozen=True)
class RenderedAttachment:
    filename: str
    content_type: str
    content: bytes


def tickets_pdf_filename(order_id: str) -> str:
    return f"tickets-{order_id[:8]}.pdf"


def tickets_pdf(order_id: str) -> dict[str, str]:
    """The outbox entry for an order's tickets PDF (rendered by the scanner at send time)."""
    return {"filename": tickets_pdf_filename(order_id), "content_type": "application/pdf",
            "render": TICKETS_PDF, "order_id": order_id}


async def render_attachments(entries: Sequence[Mapping[str, Any]],
                             renderers: Renderers) -> list[RenderedAttachment]:
    rendered = []
    for entry in entries:
        name = entry.get("render")
        renderer = renderers.get(name) if isinstance(name, str) else None
        if renderer is None:
            raise AttachmentUnavailable(f"no renderer {name!r} for attachment "
                                        f"{entry.get('filename')!r} in this worker")
        try:
            content = await renderer(entry)
        except AttachmentUnavailable:
            raise
        except Exception as exc:  # any renderer failure: keep the mail, retry later
            raise AttachmentUnavailable(
                f"renderer {name!r} failed: {type(exc).__name__}: {exc}") from exc
        rendered.append(RenderedAttachment(filename=str(entry["filename"]),
                                           content_type=str(entry["content_type"]),
                                           content=content))
    return rendered
