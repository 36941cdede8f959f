"""Signed, expiring credentials for people: API bearer tokens and browser session cookies.

Both are `<user id>~<session id>.<timestamp>.<signature>` (core.signed_fields) with
distinct salts, so a session cookie is never accepted as a bearer token or the reverse.
The session id (accounts/sessions.py) is what sign-out revokes. v3 added it: v2 tokens
(user id only) could not be revoked and are refused, so everyone signs in once again.
Refusals are core.signed_fields' CredentialInvalid / CredentialExpired.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from core.signed_fields import SignedFields

API_TOKEN_SALT = "ticketq.api-token.v3"
SESSION_SALT = "ticketq.session.v3"


@functools.lru_cache(maxsize=32)
def _kind(secret_key: str, ttl_seconds: int, salt: str) -> SignedFields:
    """Built once per (secret, lifetime, kind): every request checks one credential."""
    noun = "session cookie" if salt == SESSION_SALT else "bearer token"
    return SignedFields(secret_key, salt, 2, ttl_seconds, noun)


@dataclass(frozen=True)
class TokenSigner:
    secret_key: str
    ttl_seconds: int

    def _kind(self, salt: str) -> SignedFields:
        return _kind(self.secret_key, self.ttl_seconds, salt)

    def issue(self, user_id: int, session_id: int | None = None, *,
              kind: str = API_TOKEN_SALT) -> str:
        """A credential of `session_id`. Without one (tools and tests that mint tokens for
        accounts they made directly) the session has no row and a start time of 0, so
        sign-out revokes it and so does signing out everywhere."""
        if session_id is None:
            session_id = secrets.randbits(16) + 1
        return self._kind(kind).sign(user_id, session_id)

    def read(self, token: str, *, kind: str = API_TOKEN_SALT) -> tuple[int, int]:
        """(user id, session id) of a genuine, unexpired credential of this kind."""
        user_id, session_id = self._kind(kind).read_ints(token)
        return user_id, session_id

    def user_id(self, token: str, *, kind: str = API_TOKEN_SALT) -> int:
        return self.read(token, kind=kind)[0]
