"""Setting the door up for tests: a venue with an event, scanners, fans and paid tickets.

Tickets are issued through the ledger (`purchase.ledger.issue_tickets`), as the
purchase part does after payment; the code under test starts at the QR.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Order, Ticket
from purchase.ledger import issue_tickets
from tests.support.api import (
    Account,
    DropSetup,
    add_staff,
    app_sessionmaker,
    create_drop_setup,
    sign_up,
)


@dataclass
class Door:
    setup: DropSetup
    scanner: Account
    fan: Account

    @property
    def event_id(self) -> int:
        return self.setup.event_id


async def add_scanner(
    client: httpx.AsyncClient, setup: DropSetup, prefix: str = "scanner",
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> Account:
    """A new account invited as the venue's scanner, which accepts from its email.

    `sessionmaker` reads the outbox; an in-process client's own app gives it otherwise."""
    account = await sign_up(client, prefix)
    await add_staff(client, sessionmaker or app_sessionmaker(client), admin=setup.admin,
                    venue_id=setup.venue_id, person=account, role="scanner")
    return account


async def make_door(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> Door:
    setup = await create_drop_setup(client)
    scanner = await add_scanner(client, setup, sessionmaker=sessionmaker)
    return Door(setup=setup, scanner=scanner, fan=await sign_up(client))


async def issue(sessionmaker: async_sessionmaker[AsyncSession], door: Door, *, tier: str = "GA",
                count: int = 1, fan: Account | None = None,
                issued_at: datetime | None = None) -> list[str]:
    """A paid order of `count` tickets for the fan; returns the ticket ids.

    Issued an hour ago unless `issued_at` says otherwise, so offline scans a few minutes
    in the past are plausible (an offline scan may not predate its ticket)."""
    holder = fan or door.fan
    tier_id = door.setup.tier_ids[tier]
    async with sessionmaker() as session:
        order = Order(id=str(uuid.uuid4()), user_id=holder.id, event_id=door.event_id,
                      drop_id=door.setup.drop_id,
                      items=[{"tier_id": tier_id, "quantity": count, "unit_price_cents": 5000}],
                      total_cents=5000 * count, currency="EUR", state="paid")
        session.add(order)
        await session.flush()
        tickets = await issue_tickets(session, order)
        for ticket in tickets:
            ticket.created_at = issued_at or datetime.now(UTC) - timedelta(hours=1)
        await session.commit()
        return [ticket.id for ticket in tickets]


async def set_status(
    sessionmaker: async_sessionmaker[AsyncSession], ticket_id: str, status: str,
) -> None:
    async with sessionmaker() as session:
        await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status=status))
        await session.commit()


async def live_payload(client: httpx.AsyncClient, fan: Account, ticket_id: str) -> str:
    response = await client.get(f"/api/me/tickets/{ticket_id}/code", headers=fan.headers)
    assert response.status_code == 200, response.text
    payload: str = response.json()["payload"]
    return payload


def scan_body(payload: str, *, gate: str = "North", device: str = "door-1",
              nonce: str | None = None, event_id: int | None = None) -> dict[str, object]:
    body: dict[str, object] = {"payload": payload, "gate": gate, "device_id": device,
                               "nonce": nonce or uuid.uuid4().hex}
    if event_id is not None:
        body["event_id"] = event_id
    return body
