"""Signed, expiring credentials for people: API bearer tokens and browser session cookies.

Both are itsdangerous timed signatures over `{"uid": <user id>}` with distinct
salts, so a session cookie is never accepted as a bearer token or the reverse.
Signature checks inside itsdangerous are constant-time.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

API_TOKEN_SALT = "ticketq.api-token.v1"
SESSION_SALT = "ticketq.session.v1"


class CredentialError(Exception):
    """The credential is forged, malformed or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenSigner:
    secret_key: str
    ttl_seconds: int

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=salt)

    def issue(self, user_id: int, *, kind: str = API_TOKEN_SALT) -> str:
        return str(self._serializer(kind).dumps({"uid": user_id}))

    def user_id(self, token: str, *, kind: str = API_TOKEN_SALT) -> int:
        try:
            payload = self._serializer(kind).loads(token, max_age=self.ttl_seconds)
        except SignatureExpired as exc:
            raise CredentialError("expired") from exc
        except BadSignature as exc:
            raise CredentialError("invalid signature") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
            raise CredentialError("malformed")
        return int(payload["uid"])
