"""Attachments made at send time: a row whose renderer is missing or fails stays owed (with
its last_error); a paid order's confirmation reaches the real SMTP server, sent by the real
`ticketq worker`, with the tickets PDF whose QR decodes to a code the scanner admits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mail import messages
from mail.attachments import (
    AttachmentUnavailable,
    render_attachments,
    tickets_pdf,
)
from mail.mailbox import mailbox_folder
from mail.models import OutboxMessage
from mail.outbox import enqueue
from mail.sender import send_due
from scanner.payload import decode
from tests.mail.conftest import DevSmtp, start_dev_smtp, stop
from tests.mail.test_sender import LATER, mail_to, row
from tests.purchase.conftest import (  # noqa: F401 (fixtures)
    Shop,
    api,
    clock,
    ctx,
    purchase_app,
    purchase_settings,
    shop,
)
from tests.support.apps import api_client, running_app
from tests.support.pdf_qr import attached_pdf, page_qr_payloads, page_texts
from tests.support.processes import service_env, worker_process
from tests.support.waiting import eventually

ORDER = "0b5e1c9e-4d39-4c1e-9a57-3f1f3e0c2a11"


def _with_pdf(user_id: int) -> messages.Message:
    plain = messages.verify_email(user_id=user_id, to_address=f"fan{user_id}@example.test",
                                  fan_name="Fay", verify_url=f"https://t.test/v/{user_id}")
    return replace(plain, attachments=[tickets_pdf(ORDER)])


async def _fake_pdf(entry: Mapping[str, Any]) -> bytes:
    return b"%PDF-1.4 for " + str(entry["order_id"]).encode()


async def _broken(entry: Mapping[str, Any]) -> bytes:
    raise LookupError("no such order")


async def test_unknown_or_failing_renderer_keeps_the_mail_with_its_reason(
        outbox: async_sessionmaker[AsyncSession], dev_smtp: DevSmtp) -> None:
    async with outbox() as session, session.begin():
        await enqueue(session, _with_pdf(301))
    key = "verify_email:301:https://t.test/v/301"
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=LATER) == 1
    first = await row(outbox, key)
    assert first.sent_at is None and first.claimed_by is None and first.next_attempt_at > LATER
    assert "no renderer 'tickets_pdf'" in (first.last_error or "")
    retry_at = first.next_attempt_at
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w", now=retry_at,
                          renderers={"tickets_pdf": _broken}) == 1
    second = await row(outbox, key)
    assert second.sent_at is None and second.attempts == 2
    assert "LookupError: no such order" in (second.last_error or "")
    assert dev_smtp.mailbox() == []
    # Once it can be made, the same row goes out, attachment and all.
    assert await send_due(outbox, mail_to(dev_smtp), worker_id="w",
                          now=second.next_attempt_at, renderers={"tickets_pdf": _fake_pdf}) == 1
    assert (await row(outbox, key)).sent_at is not None
    [mail] = dev_smtp.mailbox()
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        (f"tickets-{ORDER[:8]}.pdf", "application/pdf")]


async def test_entries_without_a_renderer_name_are_refused() -> None:
    with pytest.raises(AttachmentUnavailable, match="no renderer None"):
        await render_attachments([{"filename": "x.pdf", "content_type": "application/pdf"}],
                                 {"tickets_pdf": _fake_pdf})
    assert await render_attachments([], {}) == []


@pytest.mark.slow
async def test_a_paid_order_mails_its_tickets_pdf_through_the_real_worker(
        shop: Shop, outbox: async_sessionmaker[AsyncSession], tmp_path: Path,  # noqa: F811
        ) -> None:
    fan = await shop.fan("pdfmail")
    held = await shop.hold(fan, GA=2)
    paid = await shop.pay(fan, held.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    order_id = paid.json()["order_id"]
    async with outbox() as session:
        confirmation = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"order_confirmation:{order_id}"))
    assert confirmation is not None
    assert confirmation.attachments == [tickets_pdf(order_id)]
    settings = shop.ctx.settings
    home = tmp_path / "home"
    # The demo's layout: the dev SMTP server keeps mail where /dev/mail reads it.
    dev_smtp = start_dev_smtp(mailbox_folder(home))
    # The worker signs with the same master seed as the gateway, as in production.
    env = service_env(settings.redis_url or "", settings.database_url or "",
                      SMTP_URL=dev_smtp.url, TICKETQ_HOME=str(home),
                      TICKETQ_TICKET_KEY_DIR=str(settings.keys_dir))
    try:
        with worker_process(env, tmp_path, "pdf-mail", only=("mail",)):
            async def delivered() -> bool:
                return any(mail.kind == "order_confirmation" for mail in dev_smtp.mailbox())
            await eventually(delivered, timeout_s=90, interval_s=0.2,
                             message="the worker to send the order confirmation")
    finally:
        stop(dev_smtp.process)
    async with running_app(settings.replace(home=home)) as app, api_client(app) as client:
        listed = (await client.get("/dev/mail.json")).json()["messages"]
    [shown] = [m for m in listed if m["kind"] == "order_confirmation"]
    assert shown["attachments"] == [{"filename": f"tickets-{order_id[:8]}.pdf",
                                     "content_type": "application/pdf"}]
    [mail] = [m for m in dev_smtp.mailbox() if m.kind == "order_confirmation"]
    assert mail.to == fan.account.email
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        (f"tickets-{order_id[:8]}.pdf", "application/pdf")]
    pdf = attached_pdf(dev_smtp.folder, mail.message_id)
    assert len(page_texts(pdf)) == 2
    codes = [decode(text) for [text] in page_qr_payloads(pdf)]
    assert all(code.claims.static for code in codes)
    # The mailed code opens the door: the venue's admin scans it through the real API.
    scan = await shop.api.post("/api/scan", headers=shop.setup.admin.headers, json={
        "payload": page_qr_payloads(pdf)[0][0], "gate": "Main", "device_id": "mail-door",
        "nonce": "mailed-pdf-1", "event_id": shop.setup.event_id})
    assert scan.status_code == 200, scan.text
    assert scan.json()["result"] == "valid"


def test_lottery_winners_get_the_tickets_pdf_and_others_none() -> None:
    event = messages.EventFacts(title="Show", venue_name="Hall", timezone="Europe/Paris",
                                starts_at=LATER)
    common = {"entry_id": "e1", "to_address": "fan@example.test", "fan_name": "Fay",
              "event": event, "amount_cents": 5000, "currency": "EUR", "note": ""}
    won = messages.lottery_result(won=True, order_id=ORDER, **common)  # type: ignore[arg-type]
    assert won.kind == "lottery_won" and won.attachments == [tickets_pdf(ORDER)]
    lost = messages.lottery_result(won=False, **common)  # type: ignore[arg-type]
    assert lost.kind == "lottery_not_won" and lost.attachments == []
    confirmation = messages.order_confirmation(
        order_id=ORDER, to_address="fan@example.test", fan_name="Fay", event=event,
        amount_cents=5000, currency="EUR", ticket_count=1)
    assert confirmation.attachments == [{
        "filename": f"tickets-{ORDER[:8]}.pdf", "content_type": "application/pdf",
        "render": "tickets_pdf", "order_id": ORDER}]
