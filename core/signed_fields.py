"""Compact signed credentials: a few fields under an itsdangerous timestamp signature,
`<field>~<field>….<timestamp>.<signature>` (URL-safe ASCII; `~` is an unreserved URL
character, and fields may hold dots, as admission pass ids do).

Login tokens, session cookies, queue tickets and admission passes all use it. They
were JSON documents under `URLSafeTimedSerializer` (base64, a zlib attempt, JSON)
at 22-40 us per check or signature; a join checks one and signs another, and this
form costs about 5 us each. The fields are signed, not encrypted: nothing secret
goes in them. Signature checks are itsdangerous's constant-time comparison, and
each credential kind signs with its own salt, so none can stand in for another.
"""

from __future__ import annotations

import functools
import hmac

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from itsdangerous.signer import HMACAlgorithm

__all__ = ["BadSignature", "SignatureExpired", "int_field", "read_fields", "sign_fields"]

SEPARATOR = "~"


class _OneShotHMAC(HMACAlgorithm):
    """The same HMAC-SHA1 itsdangerous computes, through OpenSSL's one-shot call
    (itsdangerous passes a Python wrapper as the digest, which takes hmac's slow path)."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


class _Signer(TimestampSigner):
    """Derives each key once: itsdangerous re-derives it (a hash) on every call."""

    @functools.cache  # noqa: B019 - a handful of signers live for the whole process
    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        return super().derive_key(secret_key)


@functools.lru_cache(maxsize=32)
def _signer(secret_key: str, salt: str) -> TimestampSigner:
    return _Signer(secret_key, salt=salt, algorithm=_OneShotHMAC())


def sign_fields(secret_key: str, salt: str, *fields: str | int) -> str:
    texts = [str(field) for field in fields]
    if any(not text or SEPARATOR in text for text in texts):
        raise ValueError(f"fields must be non-empty and free of {SEPARATOR!r}: {texts}")
    return _signer(secret_key, salt).sign(SEPARATOR.join(texts)).decode("ascii")


def read_fields(secret_key: str, salt: str, token: str, *, count: int,
                max_age_s: int | None = None) -> list[str]:
    """The fields of a genuine credential. Raises SignatureExpired when older than
    `max_age_s`, BadSignature when forged, tampered or not `count` fields long."""
    value = _signer(secret_key, salt).unsign(token, max_age=max_age_s)
    fields = value.decode("utf-8", errors="replace").split(SEPARATOR)
    if len(fields) != count:
        raise BadSignature("the credential has the wrong shape")
    return fields


def int_field(text: str) -> int:
    """A non-negative decimal field (BadSignature otherwise: we never sign anything else)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BadSignature("the credential has a malformed number")
    return int(text)
