"""The ticket QR payload: a compact, versioned, Ed25519-signed binary record.

Byte layout of format version 1 (94 bytes, all integers big-endian):

    offset  size  field
    0       1     format: 0x01 phone code (rotating), 0x02 printed code (static)
    1       2     key id: which of the event's signing keys signed it (uint16)
    3       16    ticket id: the ticket's UUID, raw 16 bytes
    19      4     event id (uint32)
    23      4     tier id (uint32)
    27      64    Ed25519 signature over SIGNING_DOMAIN + bytes 0..26
    91      3     rotating code: the ticket's current time-based code (uint24,
                  0..999999); NOT covered by the signature, it is authenticated
                  by its own per-ticket HMAC secret (scanner/codes.py). Always 0
                  in a printed code, which carries no rotating code.

The 27 signed bytes never change for a ticket and key, so the signature is
stable; only the last three bytes change every period. No personal data is
inside: a lost screenshot reveals ticket, event and tier ids only.

Printed codes (PDF, paper, later wallet passes) cannot rotate, so they say so in
byte 0, which is signed: turning a screenshot of a phone code into a printed one
(to escape the rotating check) breaks the signature, and the scanner accepts a
printed code only where the event allows it (`events.static_codes_allowed`).

On the wire (in the QR, in JSON) the 94 bytes are RFC 4648 Base32 without
padding: 151 characters from A-Z and 2-7, which QR codes store in
alphanumeric mode (5.5 bits a character), so the symbol is a version 6 QR
(41x41 modules) at error correction M. A full Ed25519 signature is 64 bytes,
so no encoding gets the text under ~100 characters; see docs/scanner.md.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
from dataclasses import dataclass

FORMAT_VERSION = 1  # a phone code, with a rotating code
STATIC_FORMAT = 2  # a printed code: same layout, rotating code 0, never expires
SIGNING_DOMAIN = b"ticketq/ticket-qr/v1\x00"
_BODY = struct.Struct(">BH16sII")
BODY_SIZE = _BODY.size  # 27
SIGNATURE_SIZE = 64
CODE_SIZE = 3
PAYLOAD_SIZE = BODY_SIZE + SIGNATURE_SIZE + CODE_SIZE  # 94
MAX_UINT32 = 2**32 - 1


class MalformedPayload(ValueError):
    """The text is not a ticket payload this scanner understands; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TicketClaims:
    """What the signed part of a payload says."""

    key_id: int
    ticket_id: str
    event_id: int
    tier_id: int
    static: bool = False  # a printed code (format 2), checked without a rotating code

    def body(self) -> bytes:
        if not (0 <= self.event_id <= MAX_UINT32 and 0 <= self.tier_id <= MAX_UINT32):
            raise ValueError("event and tier ids must fit in 32 bits for payload format 1")
        if not 0 <= self.key_id <= 0xFFFF:
            raise ValueError("key id must fit in 16 bits")
        kind = STATIC_FORMAT if self.static else FORMAT_VERSION
        return _BODY.pack(kind, self.key_id, uuid.UUID(self.ticket_id).bytes,
                          self.event_id, self.tier_id)

    def signed_message(self) -> bytes:
        return SIGNING_DOMAIN + self.body()


@dataclass(frozen=True)
class ScannedPayload:
    claims: TicketClaims
    signature: bytes
    code: int


def encode(claims: TicketClaims, signature: bytes, code: int) -> str:
    """The QR text for a ticket: body, signature and rotating code, Base32."""
    if len(signature) != SIGNATURE_SIZE:
        raise ValueError("an Ed25519 signature is 64 bytes")
    if not 0 <= code <= 999_999:
        raise ValueError("the rotating code has six digits")
    if claims.static and code != 0:
        raise ValueError("a printed code carries no rotating code (0)")
    raw = claims.body() + signature + code.to_bytes(CODE_SIZE, "big")
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> ScannedPayload:
    """Parse (not verify) a scanned payload; raises MalformedPayload on anything odd."""
    cleaned = text.strip().upper()
    if not cleaned or len(cleaned) > 200:
        raise MalformedPayload("not a TicketQ ticket code")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise MalformedPayload("not a TicketQ ticket code") from exc
    if not raw:
        raise MalformedPayload("not a TicketQ ticket code")
    if raw[0] not in (FORMAT_VERSION, STATIC_FORMAT):
        raise MalformedPayload(f"unsupported ticket format version {raw[0]}")
    if len(raw) != PAYLOAD_SIZE:
        raise MalformedPayload("the ticket code is truncated or too long")
    kind, key_id, ticket_bytes, event_id, tier_id = _BODY.unpack(raw[:BODY_SIZE])
    code = int.from_bytes(raw[BODY_SIZE + SIGNATURE_SIZE:], "big")
    if code > 999_999:
        raise MalformedPayload("the rotating code is out of range")
    claims = TicketClaims(key_id=key_id, ticket_id=str(uuid.UUID(bytes=ticket_bytes)),
                          event_id=event_id, tier_id=tier_id, static=kind == STATIC_FORMAT)
    return ScannedPayload(claims=claims, signature=raw[BODY_SIZE:BODY_SIZE + SIGNATURE_SIZE],
                          code=code)
