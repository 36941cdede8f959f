"""Lottery mail end to end: every entrant (a real localstripe authorisation each) is mailed
exactly one `lottery_entry_received` and exactly one result, settled and sent by the real
`ticketq worker` over the dev SMTP server. Winners' `lottery_won` carries the tickets PDF;
losers' `lottery_not_won` says the hold was released; settling again sends nothing more."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Ticket, User
from lottery.jobs import settle_lottery, settler_pass
from lottery.models import LotteryEntry
from lottery.payments import HeldPayments
from lottery.settlement import SettleOptions
from mail.mailbox import StoredMail
from mail.models import OutboxMessage
from scanner.payload import decode
from tests.lottery.conftest import STRIPE_KEY, enter_many, make_lottery, seal_and_draw, settle_only
from tests.lottery.test_settlement import entries_of
from tests.lottery.test_worker_crash import lottery_state
from tests.mail.conftest import start_dev_smtp, stop
from tests.support import services as test_services
from tests.support.pdf_qr import attached_pdf, page_qr_payloads
from tests.support.processes import service_env, worker_process
from tests.support.waiting import eventually

ENTRANTS = 6
SEATS_EACH = 2
CAPACITY = 6  # seats for three of the six entries: three win, three lose


async def emails_by_entry(db: async_sessionmaker[AsyncSession],
                          entries: list[LotteryEntry]) -> dict[str, str]:
    async with db() as session:
        rows = await session.execute(select(User.id, User.email).where(
            User.id.in_([entry.user_id for entry in entries])))
        email_of = {user_id: email for user_id, email in rows}
    return {entry.id: email_of[entry.user_id] for entry in entries}


async def outbox_rows(db: async_sessionmaker[AsyncSession],
                      entries: list[LotteryEntry]) -> list[OutboxMessage]:
    keys = [f"{kind}:{entry.id}" for entry in entries
            for kind in ("lottery_entry_received", "lottery_result")]
    async with db() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.in_(keys))))


async def ticket_ids(db: async_sessionmaker[AsyncSession], order_id: str | None) -> set[str]:
    async with db() as session:
        return {str(ticket_id) for ticket_id in await session.scalars(
            select(Ticket.id).where(Ticket.order_id == order_id))}


@pytest.mark.slow
async def test_every_entrant_is_mailed_its_entry_and_its_result_exactly_once(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    services: test_services.TestServices, localstripe_url: str, tmp_path: Path,
) -> None:
    lottery = await make_lottery(api, capacity=CAPACITY, max_quantity=SEATS_EACH)
    await enter_many(db, payments, lottery, [SEATS_EACH] * ENTRANTS)
    moment = await seal_and_draw(db, lottery.drop_id)
    await settle_only(db, lottery.drop_id)
    email_of = await emails_by_entry(db, await entries_of(db, lottery.drop_id))
    fans = set(email_of.values())
    assert len(fans) == ENTRANTS

    def ours() -> list[StoredMail]:
        return [mail for mail in dev_smtp.mailbox() if mail.to in fans]

    dev_smtp = start_dev_smtp(tmp_path / "mailbox")
    env = service_env(services.redis_url, services.database_url, STRIPE_API_KEY=STRIPE_KEY,
                      STRIPE_API_BASE=localstripe_url, SMTP_URL=dev_smtp.url)
    try:
        with worker_process(env, tmp_path, "lottery-mail", only=("lottery", "mail")) as worker:
            async def settled_and_mailed() -> bool:
                return (await lottery_state(db, lottery.drop_id) == "settled"
                        and len(ours()) >= 2 * ENTRANTS)

            await eventually(settled_and_mailed, timeout_s=120, interval_s=0.2,
                             message=f"the lottery settled and mailed\n{worker.log_tail()}")
    finally:
        stop(dev_smtp.process)

    entries = {entry.id: entry for entry in await entries_of(db, lottery.drop_id)}
    winners = {i for i, entry in entries.items() if entry.money == "captured"}
    assert len(winners) == CAPACITY // SEATS_EACH
    mailed = ours()
    assert len(mailed) == 2 * ENTRANTS
    for entry_id, entry in entries.items():
        to_fan = [mail for mail in mailed if mail.to == email_of[entry_id]]
        assert sorted(str(mail.kind) for mail in to_fan) == sorted(
            ["lottery_entry_received", "lottery_won" if entry_id in winners else "lottery_not_won"])
        [result] = [mail for mail in to_fan if mail.kind != "lottery_entry_received"]
        assert entry_id in result.text
        if entry_id in winners:
            assert [(a.filename, a.content_type) for a in result.attachments] == [
                (f"tickets-{str(entry.order_id)[:8]}.pdf", "application/pdf")]
            codes = [decode(code) for [code] in page_qr_payloads(
                attached_pdf(dev_smtp.folder, result.message_id))]
            assert {code.claims.ticket_id for code in codes} == await ticket_ids(
                db, entry.order_id)
            assert {code.claims.event_id for code in codes} == {lottery.setup.event_id}
        else:
            assert entry.money == "released" and result.attachments == []
            assert "the hold on your card was cancelled, nothing was charged" in result.text
    # The server was handed each message once: no resend reached it.
    ids = {mail.message_id for mail in mailed}
    received = [line for line in dev_smtp.received() if line.split()[0] in ids]
    assert sorted(received) == sorted(f"{message_id} stored" for message_id in ids)

    # Settling again, by the worker's pass and forced for this drop, owes nobody more mail.
    options = SettleOptions(worker_id="settles-again")
    later = moment + timedelta(minutes=5)
    await settler_pass(db, payments, options, lambda: later)
    # False: it was settled already, this call settled nothing.
    assert not await settle_lottery(db, payments, lottery.drop_id, options, lambda: later)
    rows = await outbox_rows(db, list(entries.values()))
    assert len(rows) == 2 * ENTRANTS
    assert all(row.sent_at is not None for row in rows)
