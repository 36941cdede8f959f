"""Queue tickets and admission passes: signed, bound to fan and drop, expiring.

- A *queue ticket* proves which place in line is yours (reconnects, other tabs).
  Payload: {"f": fan_id, "d": drop_id}. It expires after the queue ticket TTL.
- An *admission pass* lets one fan into purchase for one session.
  Payload: {"f": fan_id, "d": drop_id, "p": pass_id, "e": expires_ms}.
  The signature proves we issued it; Redis proves it is still the live one:
  `DropKeys.passes[fan] == pass_id` and `DropKeys.active[fan] > now_ms`
  (revoking a pass deletes it there, so a copied token stops working).

Both are itsdangerous signatures (HMAC, constant-time comparison) with distinct
salts, so neither can stand in for the other or for a login token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ticketq.errors import Forbidden, Gone, NotAuthenticated

QUEUE_TICKET_SALT = "ticketq.queue-ticket.v1"
ADMISSION_PASS_SALT = "ticketq.admission-pass.v1"


class BadCredential(NotAuthenticated):
    """Forged, malformed or tampered."""


class ExpiredCredential(Gone):
    """Genuine but past its expiry."""


class ForeignCredential(Forbidden):
    """Genuine, but issued to another fan or for another drop."""


@dataclass(frozen=True)
class QueueTicket:
    fan_id: int
    drop_id: int


@dataclass(frozen=True)
class AdmissionPass:
    fan_id: int
    drop_id: int
    pass_id: str
    expires_ms: int


def _int_field(payload: object, key: str) -> int:
    if not isinstance(payload, dict) or not isinstance(payload.get(key), int):
        raise BadCredential("the credential is malformed")
    return int(payload[key])


@dataclass(frozen=True)
class CredentialSigner:
    secret_key: str

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=salt)

    # --- queue tickets -------------------------------------------------------
    def queue_ticket(self, fan_id: int, drop_id: int) -> str:
        return str(self._serializer(QUEUE_TICKET_SALT).dumps({"f": fan_id, "d": drop_id}))

    def read_queue_ticket(
        self, token: str, *, drop_id: int, ttl_seconds: int, fan_id: int | None = None
    ) -> QueueTicket:
        try:
            payload = self._serializer(QUEUE_TICKET_SALT).loads(token, max_age=ttl_seconds)
        except SignatureExpired as exc:
            raise ExpiredCredential("this queue ticket has expired; join again") from exc
        except BadSignature as exc:
            raise BadCredential("this queue ticket is not one we issued") from exc
        ticket = QueueTicket(_int_field(payload, "f"), _int_field(payload, "d"))
        if ticket.drop_id != drop_id:
            raise ForeignCredential("this queue ticket is for another drop")
        if fan_id is not None and ticket.fan_id != fan_id:
            raise ForeignCredential("this queue ticket belongs to another fan")
        return ticket

    # --- admission passes ----------------------------------------------------
    def admission_pass(self, fan_id: int, drop_id: int, pass_id: str, expires_ms: int) -> str:
        payload = {"f": fan_id, "d": drop_id, "p": pass_id, "e": expires_ms}
        return str(self._serializer(ADMISSION_PASS_SALT).dumps(payload))

    def read_admission_pass(
        self, token: str, *, drop_id: int, fan_id: int, now_ms: int | None = None
    ) -> AdmissionPass:
        """Check signature, binding and expiry. Liveness in Redis is checked atomically
        by the script that uses the pass (e.g. reserve_hold)."""
        try:
            payload = self._serializer(ADMISSION_PASS_SALT).loads(token)
        except BadSignature as exc:
            raise BadCredential("this admission pass is not one we issued") from exc
        pass_id = payload.get("p") if isinstance(payload, dict) else None
        if not isinstance(pass_id, str):
            raise BadCredential("this admission pass is malformed")
        admission = AdmissionPass(
            _int_field(payload, "f"), _int_field(payload, "d"), pass_id, _int_field(payload, "e")
        )
        if admission.drop_id != drop_id:
            raise ForeignCredential("this admission pass is for another drop")
        if admission.fan_id != fan_id:
            raise ForeignCredential("this admission pass belongs to another fan")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if admission.expires_ms <= now:
            raise ExpiredCredential("your purchase session has ended; rejoin the queue")
        return admission
