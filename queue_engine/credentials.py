"""Queue tickets and admission passes: signed, bound to fan and drop, expiring.

- A *queue ticket* proves which place in line is yours (reconnects, other tabs):
  `<fan>~<drop>.<timestamp>.<signature>`. It expires after the queue ticket TTL.
- An *admission pass* lets one fan into purchase for one session:
  `<fan>~<drop>~<pass id>~<expires ms>.<timestamp>.<signature>`.
  The signature proves we issued it; Redis proves it is still the live one:
  `DropKeys.passes[fan] == pass_id` and `DropKeys.active[fan] > now_ms`
  (revoking a pass deletes it there, so a copied token stops working).

Both are core.signed_fields credentials (HMAC, constant-time comparison) with distinct
salts, so neither can stand in for the other or for a login token. Refusals are its
CredentialInvalid (401), CredentialForeign (403) and CredentialExpired (410).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from core.signed_fields import CredentialExpired, CredentialForeign, SignedFields, int_field

QUEUE_TICKET_SALT = "ticketq.queue-ticket.v2"
ADMISSION_PASS_SALT = "ticketq.admission-pass.v2"


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


@functools.lru_cache(maxsize=32)
def _queue_tickets(secret_key: str, ttl_seconds: int | None) -> SignedFields:
    """Built once per (secret, lifetime): every join signs a queue ticket."""
    return SignedFields(secret_key, QUEUE_TICKET_SALT, 2, ttl_seconds, "queue ticket")


@dataclass(frozen=True)
class CredentialSigner:
    secret_key: str

    # --- queue tickets -------------------------------------------------------
    def _queue_tickets(self, ttl_seconds: int | None = None) -> SignedFields:
        return _queue_tickets(self.secret_key, ttl_seconds)

    def queue_ticket(self, fan_id: int, drop_id: int) -> str:
        return self._queue_tickets().sign(fan_id, drop_id)

    def read_queue_ticket(
        self, token: str, *, drop_id: int, ttl_seconds: int, fan_id: int | None = None
    ) -> QueueTicket:
        ticket = QueueTicket(*self._queue_tickets(ttl_seconds).read_ints(token))
        if ticket.drop_id != drop_id:
            raise CredentialForeign("this queue ticket is for another drop")
        if fan_id is not None and ticket.fan_id != fan_id:
            raise CredentialForeign("this queue ticket belongs to another fan")
        return ticket

    # --- admission passes ----------------------------------------------------
    def _admission_passes(self) -> SignedFields:
        # No max age: a pass carries its own expiry (the purchase session's end).
        return SignedFields(self.secret_key, ADMISSION_PASS_SALT, 4, None, "admission pass")

    def admission_pass(self, fan_id: int, drop_id: int, pass_id: str, expires_ms: int) -> str:
        return self._admission_passes().sign(fan_id, drop_id, pass_id, expires_ms)

    def read_admission_pass(
        self, token: str, *, drop_id: int, fan_id: int, now_ms: int | None = None
    ) -> AdmissionPass:
        """Check signature, binding and expiry. Liveness in Redis is checked atomically
        by the script that uses the pass (e.g. reserve_hold)."""
        fan, drop, pass_id, expires = self._admission_passes().read(token)
        noun = "admission pass"
        admission = AdmissionPass(int_field(fan, noun), int_field(drop, noun), pass_id,
                                  int_field(expires, noun))
        if admission.drop_id != drop_id:
            raise CredentialForeign("this admission pass is for another drop")
        if admission.fan_id != fan_id:
            raise CredentialForeign("this admission pass belongs to another fan")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if admission.expires_ms <= now:
            raise CredentialExpired("your purchase session has ended; rejoin the queue")
        return admission
