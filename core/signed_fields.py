"""Compact signed credentials: a few fields under an itsdangerous timestamp signature,
`<field>~<field>….<timestamp>.<signature>` (URL-safe ASCII; `~` is an unreserved URL
character, and fields may hold dots, as admission pass ids do).

Byte by byte: the fields, joined by `~`; a `.`; the signing time as base64url of its
big-endian integer seconds (itsdangerous's form); a `.`; base64url (unpadded) of
HMAC-SHA1 over everything before it, keyed by `sha1(salt + "signer" + secret)`
(itsdangerous's django-concat derivation). The salt is the credential's kind.

Login tokens, session cookies, queue tickets and admission passes are all a
`SignedFields` with their own salt, and refuse bad input with the same two errors,
`CredentialInvalid` and `CredentialExpired`; `CredentialForeign` is for a genuine
credential bound to another fan or drop. They were JSON documents under
`URLSafeTimedSerializer` (base64, a zlib attempt, JSON) at 22-40 us per check or
signature; a join checks one and signs another, and this form costs about 5 us each.
The fields are signed, not encrypted: nothing secret goes in them. Signature checks
are itsdangerous's constant-time comparison (`hmac.compare_digest`), and each kind
signs with its own salt, so none can stand in for another.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from itsdangerous.signer import HMACAlgorithm

from core.errors import Forbidden, Gone, NotAuthenticated

__all__ = ["CredentialExpired", "CredentialForeign", "CredentialInvalid", "SignedFields",
           "int_field"]

SEPARATOR = "~"


class CredentialInvalid(NotAuthenticated):
    """Forged, tampered, malformed, or of another kind (another salt)."""

    reason = "invalid"


class CredentialExpired(Gone):
    """Genuine but past its expiry."""

    reason = "expired"


class CredentialForeign(Forbidden):
    """Genuine, but issued to another fan or for another drop."""


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


@dataclass(frozen=True, slots=True)
class SignedFields:
    """One kind of credential: `count` fields signed with `salt`, valid for `max_age_s`
    seconds after signing (None: the kind carries its own expiry, as passes do).

    `noun` names the kind in refusals a fan reads ("this queue ticket has expired").
    Cheap to build per call: the keyed signer behind it is cached per (secret, salt).
    """

    secret_key: str
    salt: str
    count: int
    max_age_s: int | None = None
    noun: str = "credential"

    def sign(self, *fields: str | int) -> str:
        texts = [str(field) for field in fields]
        if len(texts) != self.count or any(not text or SEPARATOR in text for text in texts):
            raise ValueError(f"{self.count} fields, non-empty and free of {SEPARATOR!r}, "
                             f"are signed: {texts}")
        return _signer(self.secret_key, self.salt).sign(SEPARATOR.join(texts)).decode("ascii")

    def read(self, token: str) -> list[str]:
        """The fields of a genuine, unexpired credential of this kind.

        Raises CredentialExpired when older than `max_age_s`, CredentialInvalid when
        forged, tampered, of another kind or not `count` fields long.
        """
        try:
            value = _signer(self.secret_key, self.salt).unsign(token, max_age=self.max_age_s)
        except SignatureExpired as exc:
            raise CredentialExpired(f"this {self.noun} has expired") from exc
        except BadSignature as exc:
            raise CredentialInvalid(f"this {self.noun} is not one we issued") from exc
        fields = value.decode("utf-8", errors="replace").split(SEPARATOR)
        if len(fields) != self.count:
            raise CredentialInvalid(f"this {self.noun} has the wrong shape")
        return fields

    def read_ints(self, token: str) -> list[int]:
        """`read`, for a kind whose fields are all non-negative decimal numbers."""
        return [int_field(field, self.noun) for field in self.read(token)]


def int_field(text: str, noun: str = "credential") -> int:
    """A non-negative decimal field (CredentialInvalid otherwise: we never sign anything else)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise CredentialInvalid(f"this {noun} has a malformed number")
    return int(text)
