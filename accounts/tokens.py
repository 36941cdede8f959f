"""Signed, expiring credentials for people: API bearer tokens and browser session cookies.

Both are `<user id>.<timestamp>.<signature>` (core.signed_fields) with distinct
salts, so a session cookie is never accepted as a bearer token or the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.signed_fields import (
    BadSignature,
    SignatureExpired,
    int_field,
    read_fields,
    sign_fields,
)

API_TOKEN_SALT = "ticketq.api-token.v2"
SESSION_SALT = "ticketq.session.v2"


class CredentialError(Exception):
    """The credential is forged, malformed or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenSigner:
    secret_key: str
    ttl_seconds: int

    def issue(self, user_id: int, *, kind: str = API_TOKEN_SALT) -> str:
        return sign_fields(self.secret_key, kind, user_id)

    def user_id(self, token: str, *, kind: str = API_TOKEN_SALT) -> int:
        try:
            (user_id,) = read_fields(self.secret_key, kind, token, count=1,
                                     max_age_s=self.ttl_seconds)
            return int_field(user_id)
        except SignatureExpired as exc:
            raise CredentialError("expired") from exc
        except BadSignature as exc:
            raise CredentialError("invalid signature") from exc
