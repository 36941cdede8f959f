"""Queue tickets and admission passes: signed, bound to fan and drop, expiring.

- A *queue ticket* proves which place in line is yours (reconnects, other tabs):
  `<fan>~<drop>.<timestamp>.<signature>`. It expires after the queue ticket TTL.
- An *admission pass* lets one fan into purchase for one session:
  `<fan>~<drop>~<pass id>~<expires ms>.<timestamp>.<signature>`.
  The signature proves we issued it; Redis proves it is still the live one:
  `DropKeys.passes[fan] == pass_id` and `DropKeys.active[fan] > now_ms`
  (revoking a pass deletes it there, so a copied token stops working).

Both are itsdangerous timestamp signatures (core.signed_fields: HMAC, constant-time
comparison) with distinct salts, so neither can stand in for the other or for a login
token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.errors import Forbidden, Gone, NotAuthenticated
from core.signed_fields import (
    BadSignature,
    SignatureExpired,
    int_field,
    read_fields,
    sign_fields,
)

QUEUE_TICKET_SALT = "ticketq.queue-ticket.v2"
ADMISSION_PASS_SALT = "ticketq.admission-pass.v2"


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


@dataclass(frozen=True)
class CredentialSigner:
    secret_key: str

    # --- queue tickets -------------------------------------------------------
    def queue_ticket(self, fan_id: int, drop_id: int) -> str:
        return sign_fields(self.secret_key, QUEUE_TICKET_SALT, fan_id, drop_id)

    def read_queue_ticket(
        self, token: str, *, drop_id: int, ttl_seconds: int, fan_id: int | None = None
    ) -> QueueTicket:
        try:
            fan, drop = read_fields(self.secret_key, QUEUE_TICKET_SALT, token, count=2,
                                    max_age_s=ttl_seconds)
            ticket = QueueTicket(int_field(fan), int_field(drop))
        except SignatureExpired as exc:
            raise ExpiredCredential("this queue ticket has expired; join again") from exc
        except BadSignature as exc:
            raise BadCredential("this queue ticket is not one we issued") from exc
        if ticket.drop_id != drop_id:
            raise ForeignCredential("this queue ticket is for another drop")
        if fan_id is not None and ticket.fan_id != fan_id:
            raise ForeignCredential("this queue ticket belongs to another fan")
        return ticket

    # --- admission passes ----------------------------------------------------
    def admission_pass(self, fan_id: int, drop_id: int, pass_id: str, expires_ms: int) -> str:
        return sign_fields(self.secret_key, ADMISSION_PASS_SALT, fan_id, drop_id, pass_id,
                           expires_ms)

    def read_admission_pass(
        self, token: str, *, drop_id: int, fan_id: int, now_ms: int | None = None
    ) -> AdmissionPass:
        """Check signature, binding and expiry. Liveness in Redis is checked atomically
        by the script that uses the pass (e.g. reserve_hold)."""
        try:
            fan, drop, pass_id, expires = read_fields(self.secret_key, ADMISSION_PASS_SALT,
                                                      token, count=4)
            admission = AdmissionPass(int_field(fan), int_field(drop), pass_id,
                                      int_field(expires))
        except BadSignature as exc:
            raise BadCredential("this admission pass is not one we issued") from exc
        if admission.drop_id != drop_id:
            raise ForeignCredential("this admission pass is for another drop")
        if admission.fan_id != fan_id:
            raise ForeignCredential("this admission pass belongs to another fan")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if admission.expires_ms <= now:
            raise ExpiredCredential("your purchase session has ended; rejoin the queue")
        return admission
