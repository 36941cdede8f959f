"""One sale seen by every kind of caller: the seven roles the authorisation tests call as.

`seed_world` seeds two venues with `catalog.seed_sale` (ours with its admin, a scanner,
two fans and a platform admin; another venue with its own admin), signs each account in
over HTTP (real sessions, real bearer tokens) and gives the fan a paid order with a
ticket, so routes that take an order or ticket id get a real one. The other fan has two
pending invitations (ours to be a scanner, whose token the world keeps so it can be
accepted; the rival venue's, to decline) and ours has one to an address with no account
(to revoke).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.passwords import hash_password_off_loop
from catalog import AccountSpec, DropSchedule, SaleSpec, TierSpec, seed_sale
from catalog.invitations import INVITATION_TTL, token_hash
from catalog.models import VenueInvitation
from core.models import Order, Role
from purchase.ledger import issue_tickets
from tests.support.api import Account

ANONYMOUS = "anonymous"
# Every caller an authorisation rule must think of, least to most powerful.
ROLES = (ANONYMOUS, "fan", "other_fan", "scanner", "other_venue_admin", "venue_admin", "admin")
PASSWORD = "correct horse battery"

# role -> the account's role in `users` and which venue's staff it is (None: no venue)
_ACCOUNTS = {
    "fan": (Role.FAN, "ours"),
    "other_fan": (Role.FAN, "ours"),
    "scanner": (Role.SCANNER, "ours"),
    "venue_admin": (Role.VENUE_ADMIN, "ours"),
    "admin": (Role.ADMIN, "ours"),
    "other_venue_admin": (Role.VENUE_ADMIN, "theirs"),
}


@dataclass
class RoleWorld:
    venue_id: int
    other_venue_id: int
    event_id: int
    drop_id: int
    tier_ids: dict[str, int]
    order_id: str  # the fan's paid order
    ticket_id: str  # ... and its ticket
    accounts: dict[str, Account] = field(default_factory=dict)
    # pending invitations: "accept" and "decline" (the other fan's), "revoke" (ours)
    invitation_ids: dict[str, int] = field(default_factory=dict)
    invitation_token: str = ""  # the "accept" invitation's emailed token

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == ANONYMOUS else self.accounts[role].headers

    def path_ids(self) -> dict[str, object]:
        """The sale's real ids by path parameter name."""
        return {"drop_id": self.drop_id, "event_id": self.event_id, "venue_id": self.venue_id,
                "order_id": self.order_id, "ticket_id": self.ticket_id,
                "fan_id": self.accounts["fan"].id,
                "invitation_id": self.invitation_ids["accept"],
                # the venue's only venue_admin: removing them is refused (409), so a
                # staff-removal call by an allowed caller changes nobody's role
                "user_id": self.accounts["venue_admin"].id}


def _schedule(now: datetime) -> DropSchedule:
    # mode, pre-queue, opens, closes, admitted per minute, max active, session seconds
    return DropSchedule("direct", now - timedelta(minutes=10), now - timedelta(seconds=1),
                        now + timedelta(hours=2), 600, 100, 600)


def _spec(tag: str, venue: str, accounts: tuple[AccountSpec, ...], now: datetime) -> SaleSpec:
    return SaleSpec(
        venue=f"{venue} {tag}", event=f"Show {tag}",
        starts_at=now + timedelta(days=30), ends_at=now + timedelta(days=30, hours=3),
        tiers=(TierSpec("GA", 5000, 100, 4), TierSpec("VIP", 15000, 10, 2)),
        schedule=_schedule(now), accounts=accounts,
    )


async def sign_in(client: httpx.AsyncClient, email: str) -> Account:
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    return Account(id=login.json()["user"]["id"], email=email, password=PASSWORD,
                   token=login.json()["token"])


async def seed_world(sessionmaker: async_sessionmaker[AsyncSession],
                     client: httpx.AsyncClient) -> RoleWorld:
    """`client` talks to the gateway under test (in-process or a live uvicorn)."""
    tag, now = secrets.token_hex(4), datetime.now(UTC)
    password_hash = await hash_password_off_loop(PASSWORD)
    emails = {role: f"{role.replace('_', '-')}-{tag}@example.test" for role in _ACCOUNTS}

    def accounts(side: str) -> tuple[AccountSpec, ...]:
        return tuple(AccountSpec(emails[role], role.title(), kind, password_hash)
                     for role, (kind, venue) in _ACCOUNTS.items() if venue == side)

    async with sessionmaker() as session:
        ours = await seed_sale(session, _spec(tag, "Hall", accounts("ours"), now))
    async with sessionmaker() as session:
        theirs = await seed_sale(session, _spec(tag, "Rival Hall", accounts("theirs"), now))
    world = RoleWorld(venue_id=ours.venue_id, other_venue_id=theirs.venue_id,
                      event_id=ours.event_id, drop_id=ours.drop_id, tier_ids=ours.tier_ids,
                      order_id="", ticket_id="")
    for role, email in emails.items():
        world.accounts[role] = await sign_in(client, email)
    world.order_id, world.ticket_id = await _paid_ticket(sessionmaker, world)
    world.invitation_token = secrets.token_urlsafe(32)
    world.invitation_ids = await _invitations(sessionmaker, world, tag, now)
    return world


async def _invitations(sessionmaker: async_sessionmaker[AsyncSession], world: RoleWorld,
                       tag: str, now: datetime) -> dict[str, int]:
    """What `catalog.invite_staff` records (its email aside), with a token we know."""
    other_fan = world.accounts["other_fan"].email
    offers = {  # purpose -> venue, invited address, inviting admin, token
        "accept": (world.venue_id, other_fan, "venue_admin", world.invitation_token),
        "decline": (world.other_venue_id, other_fan, "other_venue_admin",
                    secrets.token_urlsafe(32)),
        "revoke": (world.venue_id, f"invitee-{tag}@example.test", "venue_admin",
                   secrets.token_urlsafe(32)),
    }
    async with sessionmaker() as session:
        rows = {purpose: VenueInvitation(
                    venue_id=venue_id, email=email, role="scanner", token_hash=token_hash(token),
                    invited_by=world.accounts[inviter].id, expires_at=now + INVITATION_TTL)
                for purpose, (venue_id, email, inviter, token) in offers.items()}
        session.add_all(rows.values())
        await session.commit()
        return {purpose: row.id for purpose, row in rows.items()}


async def _paid_ticket(sessionmaker: async_sessionmaker[AsyncSession],
                       world: RoleWorld) -> tuple[str, str]:
    """What purchase records after a payment (as tests/scanner/factory.py does)."""
    tier_id = world.tier_ids["GA"]
    async with sessionmaker() as session:
        order = Order(id=str(uuid.uuid4()), user_id=world.accounts["fan"].id,
                      event_id=world.event_id, drop_id=world.drop_id,
                      items=[{"tier_id": tier_id, "name": "GA", "quantity": 1,
                              "unit_price_cents": 5000}],
                      total_cents=5000, currency="EUR", state="paid")
        session.add(order)
        await session.flush()
        tickets = await issue_tickets(session, order)
        await session.commit()
        return order.id, tickets[0].id
