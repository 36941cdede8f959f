"""Per-event Ed25519 ticket-signing keys, derived from one master seed, with rotation.

An event's key pair number `key_id` is

    private = Ed25519(HKDF-SHA256(ikm=master seed, salt=KEY_SALT,
                                  info=b"event-key" + event_id (8 bytes BE) + key_id (2 bytes BE),
                                  length=32))

so nothing secret is stored per event: the seed (`ticketq keys`) is the only
secret, and scanners receive public keys only (the scanner bundle). Which key
ids are usable lives in `scanner_event_keys`: one 'active' key signs; 'retired'
keys still verify codes made before a rotation; 'revoked' keys verify nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from scanner.codes import ticket_code_secret
from scanner.models import EventSigningKey
from scanner.payload import TicketClaims

KEY_SALT = b"ticketq/ticket-signing/v1"
USABLE = ("active", "retired")


@functools.lru_cache(maxsize=4096)
def _private_key(seed: bytes, event_id: int, key_id: int) -> Ed25519PrivateKey:
    info = b"event-key" + event_id.to_bytes(8, "big") + key_id.to_bytes(2, "big")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=KEY_SALT, info=info).derive(seed)
    return Ed25519PrivateKey.from_private_bytes(derived)


@functools.lru_cache(maxsize=4096)
def _public_key(seed: bytes, event_id: int, key_id: int) -> Ed25519PublicKey:
    return _private_key(seed, event_id, key_id).public_key()


@dataclass(frozen=True)
class KeyRing:
    """The master seed and everything derived from it (keys, rotating-code secrets)."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) < 32:
            raise ValueError("the ticket signing seed must be at least 32 bytes")

    def sign(self, claims: TicketClaims) -> bytes:
        return _private_key(self.seed, claims.event_id, claims.key_id).sign(claims.signed_message())

    def verify(self, claims: TicketClaims, signature: bytes) -> bool:
        try:
            _public_key(self.seed, claims.event_id, claims.key_id).verify(
                signature, claims.signed_message())
        except InvalidSignature:
            return False
        return True

    def public_key_bytes(self, event_id: int, key_id: int) -> bytes:
        return _public_key(self.seed, event_id, key_id).public_bytes(Encoding.Raw, PublicFormat.Raw)

    def code_secret(self, ticket_id: str) -> bytes:
        return ticket_code_secret(self.seed, ticket_id)


async def active_key_id(session: AsyncSession, event_id: int) -> int:
    """The key id that signs the event's codes now (key 1 is created on first use)."""
    query = (select(EventSigningKey.key_id)
             .where(EventSigningKey.event_id == event_id, EventSigningKey.status == "active")
             .order_by(EventSigningKey.key_id.desc()).limit(1))
    key_id = await session.scalar(query)
    if key_id is None:
        await session.execute(pg_insert(EventSigningKey)
                              .values(event_id=event_id, key_id=1, status="active")
                              .on_conflict_do_nothing())
        key_id = await session.scalar(query)
    if key_id is None:
        raise LookupError(f"event {event_id} has no active signing key")
    return int(key_id)


async def event_keys(session: AsyncSession, event_id: int) -> list[EventSigningKey]:
    rows = await session.scalars(select(EventSigningKey)
                                 .where(EventSigningKey.event_id == event_id)
                                 .order_by(EventSigningKey.key_id))
    return list(rows)


async def rotate(session: AsyncSession, event_id: int, *, now: datetime,
                 revoke_previous: bool = False, actor_user_id: int | None = None) -> int:
    """Start signing with a new key id; old ones retire (or are revoked). Caller commits.

    The audit row goes into the same transaction: a revoked key turns every code
    printed under it away at the door, so the venue must see who did it and when."""
    current = await active_key_id(session, event_id)
    latest = await session.scalar(select(EventSigningKey.key_id)
                                  .where(EventSigningKey.event_id == event_id)
                                  .order_by(EventSigningKey.key_id.desc()).limit(1)
                                  .with_for_update())
    new_id = int(latest or current) + 1
    if new_id > 0xFFFF:
        raise ValueError("this event has used every key id")
    old_status = "revoked" if revoke_previous else "retired"
    await session.execute(update(EventSigningKey)
                          .where(EventSigningKey.event_id == event_id,
                                 EventSigningKey.status.in_(USABLE if revoke_previous
                                                            else ("active",)))
                          .values(status=old_status, retired_at=now))
    session.add(EventSigningKey(event_id=event_id, key_id=new_id, status="active"))
    audit.record(session, actor_user_id=actor_user_id, action="event.key_rotate",
                 subject_type="event", subject_id=event_id,
                 details={"key_id": new_id, "previous": old_status})
    await session.flush()
    return new_id
