"""The QR payload format: layout, round trip, and every way a tampered code is refused."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from scanner.keyring import KeyRing
from scanner.payload import (
    BODY_SIZE,
    PAYLOAD_SIZE,
    STATIC_FORMAT,
    MalformedPayload,
    TicketClaims,
    decode,
    encode,
)

RING = KeyRing(bytes(range(32)))
CLAIMS = TicketClaims(key_id=1, ticket_id=str(uuid.UUID(int=0x1234)), event_id=42, tier_id=7)


def _raw(text: str) -> bytes:
    import base64
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _text(raw: bytes) -> str:
    import base64
    return base64.b32encode(raw).decode().rstrip("=")


def test_round_trip_and_layout() -> None:
    text = encode(CLAIMS, RING.sign(CLAIMS), 123456)
    raw = _raw(text)
    assert len(raw) == PAYLOAD_SIZE == 94
    assert raw[0] == 1
    assert raw[1:3] == (1).to_bytes(2, "big")
    assert raw[3:19] == uuid.UUID(CLAIMS.ticket_id).bytes
    assert raw[19:23] == (42).to_bytes(4, "big")
    assert raw[23:27] == (7).to_bytes(4, "big")
    assert raw[91:94] == (123456).to_bytes(3, "big")
    scanned = decode(text)
    assert scanned.claims == CLAIMS and scanned.code == 123456
    assert RING.verify(scanned.claims, scanned.signature)


def test_text_is_alphanumeric_and_fits_a_small_qr() -> None:
    text = encode(CLAIMS, RING.sign(CLAIMS), 0)
    assert len(text) == 151
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    qr = segno.make(text, error="m", micro=False)
    assert qr.mode == "alphanumeric" and qr.version == 6


def test_no_personal_data_fits_in_the_signed_part() -> None:
    assert BODY_SIZE == 27  # version, key id, ticket, event, tier: nothing else


@given(st.integers(min_value=0, max_value=(BODY_SIZE + 64) * 8 - 1))
def test_any_flipped_bit_in_body_or_signature_fails_verification(bit: int) -> None:
    raw = bytearray(_raw(encode(CLAIMS, RING.sign(CLAIMS), 5)))
    raw[bit // 8] ^= 1 << (bit % 8)
    try:
        scanned = decode(_text(bytes(raw)))
    except MalformedPayload:
        return  # e.g. the version byte changed
    assert not RING.verify(scanned.claims, scanned.signature)


@pytest.mark.parametrize("cut", [1, 10, 50, 93])
def test_truncated_codes_are_malformed(cut: int) -> None:
    raw = _raw(encode(CLAIMS, RING.sign(CLAIMS), 5))
    with pytest.raises(MalformedPayload):
        decode(_text(raw[:cut]))


def test_wrong_version_is_refused() -> None:
    raw = bytearray(_raw(encode(CLAIMS, RING.sign(CLAIMS), 5)))
    raw[0] = 3
    with pytest.raises(MalformedPayload, match="version 3"):
        decode(_text(bytes(raw)))


def test_printed_code_says_so_in_its_signed_first_byte() -> None:
    printed = replace(CLAIMS, static=True)
    text = encode(printed, RING.sign(printed), 0)
    raw = _raw(text)
    assert raw[0] == STATIC_FORMAT == 2 and raw[91:94] == bytes(3)
    scanned = decode(text)
    assert scanned.claims == printed and scanned.claims.static
    assert RING.verify(scanned.claims, scanned.signature)
    assert RING.sign(printed) != RING.sign(CLAIMS)  # the format byte is signed
    with pytest.raises(ValueError, match="no rotating code"):
        encode(printed, RING.sign(printed), 123456)


def test_a_phone_code_cannot_be_turned_into_a_printed_one() -> None:
    # The attack: take a screenshot's payload and mark it printed, to escape the
    # rotating code check. The signature covers byte 0, so it no longer verifies.
    raw = bytearray(_raw(encode(CLAIMS, RING.sign(CLAIMS), 654321)))
    raw[0] = STATIC_FORMAT
    raw[91:94] = bytes(3)
    scanned = decode(_text(bytes(raw)))
    assert scanned.claims.static
    assert not RING.verify(scanned.claims, scanned.signature)


@pytest.mark.parametrize("junk", ["", "   ", "hello world!", "1" * 151, "A" * 300, "€uro"])
def test_junk_is_malformed(junk: str) -> None:
    with pytest.raises(MalformedPayload):
        decode(junk)


def test_other_keys_do_not_verify() -> None:
    signature = RING.sign(CLAIMS)
    other_event = TicketClaims(key_id=1, ticket_id=CLAIMS.ticket_id, event_id=43, tier_id=7)
    other_key_id = TicketClaims(key_id=2, ticket_id=CLAIMS.ticket_id, event_id=42, tier_id=7)
    assert not RING.verify(other_event, signature)
    assert not RING.verify(other_key_id, signature)
    assert not KeyRing(secrets.token_bytes(32)).verify(CLAIMS, signature)


def test_keys_are_deterministic_per_seed_event_and_key_id() -> None:
    again = KeyRing(bytes(range(32)))
    assert again.public_key_bytes(42, 1) == RING.public_key_bytes(42, 1)
    assert RING.public_key_bytes(42, 1) != RING.public_key_bytes(42, 2)
    assert RING.public_key_bytes(42, 1) != RING.public_key_bytes(43, 1)
