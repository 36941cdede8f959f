"""Signed, expiring credentials for people: API bearer tokens and browser session cookies.

Both are `<user id>.<timestamp>.<signature>` (core.signed_fields) with distinct
salts, so a session cookie is never accepted as a bearer token or the reverse.
Refusals are core.signed_fields' CredentialInvalid / CredentialExpired.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.signed_fields import SignedFields

API_TOKEN_SALT = "ticketq.api-token.v2"
SESSION_SALT = "ticketq.session.v2"


@dataclass(frozen=True)
class TokenSigner:
    secret_key: str
    ttl_seconds: int

    def _kind(self, salt: str) -> SignedFields:
        noun = "session cookie" if salt == SESSION_SALT else "bearer token"
        return SignedFields(self.secret_key, salt, 1, self.ttl_seconds, noun)

    def issue(self, user_id: int, *, kind: str = API_TOKEN_SALT) -> str:
        return self._kind(kind).sign(user_id)

    def user_id(self, token: str, *, kind: str = API_TOKEN_SALT) -> int:
        (user_id,) = self._kind(kind).read_ints(token)
        return user_id
