"""GET /dev/mail and /dev/mail.json read the dev mailbox; production answers 404."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx

from core.settings import Settings
from mail.mailbox import mailbox_folder, store
from tests.support.apps import api_client, running_app


def _keep(home: Path, subject: str) -> None:
    email = EmailMessage()
    email["To"], email["Subject"] = "fan@example.test", subject
    email["Message-ID"], email["X-TicketQ-Kind"] = f"<{subject}@t>", "order_confirmation"
    email.set_content("hello <b>")
    email.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="t.pdf")
    store(mailbox_folder(home), email.as_bytes(), message_id=email["Message-ID"],
          received_at=datetime(2026, 1, 1, tzinfo=UTC))


async def test_dev_mailbox_lists_kept_mail(client: httpx.AsyncClient, settings: Settings) -> None:
    _keep(settings.home, "dev-mail-test")
    body = (await client.get("/dev/mail.json")).json()
    [mail] = [m for m in body["messages"] if m["subject"] == "dev-mail-test"]
    assert mail["to"] == "fan@example.test" and mail["kind"] == "order_confirmation"
    assert mail["attachments"] == [{"filename": "t.pdf", "content_type": "application/pdf"}]
    assert mail["text"].strip() == "hello <b>"
    page = await client.get("/dev/mail")
    assert page.status_code == 200 and "hello &lt;b&gt;" in page.text


async def test_dev_mailbox_is_404_in_production(settings: Settings) -> None:
    production = settings.replace(env="production")
    async with running_app(production) as app, api_client(app) as client:
        for path in ("/dev/mail", "/dev/mail.json"):
            assert (await client.get(path)).status_code == 404
