"""Rotating codes: an RFC 6238 TOTP per ticket, so a screenshot stops working in seconds.

Each ticket's secret is HMAC-SHA256(master seed, CODE_DOMAIN + ticket UUID bytes):
nothing to store, nothing scanners ever receive. The code is RFC 4226 HOTP
(HMAC-SHA1, dynamic truncation, 6 digits) over the time step
floor(unix_seconds / period). Online scans accept the current step and one
step either side (scan latency, clock skew), so a copied code is good for
at most ~2-3 periods.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from datetime import datetime

CODE_DOMAIN = b"ticketq/rotating-code/v1\x00"
DIGITS = 6
DEFAULT_PERIOD_S = 15


def ticket_code_secret(master_seed: bytes, ticket_id: str) -> bytes:
    return hmac.new(master_seed, CODE_DOMAIN + uuid.UUID(ticket_id).bytes, hashlib.sha256).digest()


def hotp(secret: bytes, counter: int) -> int:
    """RFC 4226: HMAC-SHA1 over the 8-byte counter, dynamic truncation, 6 digits."""
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    binary = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return int(binary % 10**DIGITS)


def time_step(moment: datetime, period_s: int) -> int:
    return int(moment.timestamp()) // period_s


def seconds_left(moment: datetime, period_s: int) -> float:
    """How long the code shown at `moment` stays the current one."""
    return period_s - (moment.timestamp() % period_s)


def current_code(secret: bytes, moment: datetime, period_s: int) -> int:
    return hotp(secret, time_step(moment, period_s))


def code_matches(
    secret: bytes, code: int, moment: datetime, period_s: int, *, window: int = 1,
) -> bool:
    """Whether `code` was the ticket's code within `window` steps of `moment`.

    Every candidate is compared (constant-time) so the answer's timing does not
    reveal which step matched.
    """
    step = time_step(moment, period_s)
    presented = f"{code:0{DIGITS}d}".encode()
    matched = False
    for candidate in range(step - window, step + window + 1):
        expected = f"{hotp(secret, candidate):0{DIGITS}d}".encode()
        matched |= hmac.compare_digest(expected, presented)
    return matched


def code_was_shown_before(
    secret: bytes, code: int, moment: datetime, period_s: int, *, steps_back: int,
) -> bool:
    """Whether `code` was the ticket's code at one of the `steps_back` steps before `moment`.

    This tells a truly expired code (read off an old screen) from a mistyped one; it
    decides only the wording of a refusal, never an admission.
    """
    step = time_step(moment, period_s)
    presented = f"{code:0{DIGITS}d}".encode()
    seen = False
    for candidate in range(step - steps_back, step):
        expected = f"{hotp(secret, candidate):0{DIGITS}d}".encode()
        seen |= hmac.compare_digest(expected, presented)
    return seen
