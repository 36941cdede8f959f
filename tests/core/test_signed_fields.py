"""The one signer family: wire format fixed byte for byte, one set of refusals."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner
from itsdangerous.encoding import base64_decode, bytes_to_int

from accounts.tokens import API_TOKEN_SALT, SESSION_SALT, TokenSigner
from core.errors import Gone, NotAuthenticated
from core.signed_fields import CredentialExpired, CredentialInvalid, SignedFields
from queue_engine.credentials import ADMISSION_PASS_SALT, QUEUE_TICKET_SALT, CredentialSigner

SECRET = "wire-format-secret"
# Signed at 1_700_000_000 by the signer before the family existed; they must keep verifying.
ISSUED = {
    # v2 bearer tokens (user id only) still verify as signed fields; TokenSigner refuses
    # them since v3 added the session id (accounts/tokens.py).
    "ticketq.api-token.v2": ("42.ZVPxAA.6ZZnp9157aDDVTNvG6BIl7ol-8M", ["42"]),
    API_TOKEN_SALT: ("42~7.ZVPxAA.RZmEJfOKliDYQrrpa6-RHfKbWkE", ["42", "7"]),
    QUEUE_TICKET_SALT: ("5~9.ZVPxAA.G6QPAGE6-2Yp57NDXeUaMLAvzPg", ["5", "9"]),
    ADMISSION_PASS_SALT: ("5~9~p1.5~1700000600000.ZVPxAA.ct_lIA89mkvF_j7bCR8iaZ9NwiM",
                          ["5", "9", "p1.5", "1700000600000"]),
}


@pytest.mark.parametrize("salt", list(ISSUED))
def test_credentials_issued_before_still_verify(salt: str) -> None:
    token, fields = ISSUED[salt]
    assert SignedFields(SECRET, salt, len(fields)).read(token) == fields


@pytest.mark.parametrize("salt", list(ISSUED))
def test_signing_is_itsdangerous_timestamp_signer_byte_for_byte(salt: str) -> None:
    fields = ISSUED[salt][1]
    token = SignedFields(SECRET, salt, len(fields)).sign(*fields)
    signed_at = bytes_to_int(base64_decode(token.rsplit(".", 2)[1]))

    class SameMoment(TimestampSigner):
        def get_timestamp(self) -> int:
            return signed_at

    assert token == SameMoment(SECRET, salt=salt).sign("~".join(fields)).decode()


def test_the_callers_decode_the_old_tokens() -> None:
    assert TokenSigner(SECRET, 10**10).read(ISSUED[API_TOKEN_SALT][0]) == (42, 7)
    with pytest.raises(CredentialInvalid):  # v2: no session, so nothing sign-out could revoke
        TokenSigner(SECRET, 10**10).user_id(ISSUED["ticketq.api-token.v2"][0])
    ticket = CredentialSigner(SECRET).read_queue_ticket(ISSUED[QUEUE_TICKET_SALT][0], drop_id=9,
                                                        ttl_seconds=10**10, fan_id=5)
    assert (ticket.fan_id, ticket.drop_id) == (5, 9)
    admission = CredentialSigner(SECRET).read_admission_pass(
        ISSUED[ADMISSION_PASS_SALT][0], drop_id=9, fan_id=5, now_ms=1_700_000_000_000)
    assert (admission.pass_id, admission.expires_ms) == ("p1.5", 1_700_000_600_000)


def test_one_set_of_refusals_for_every_kind() -> None:
    tokens = TokenSigner(SECRET, 60)
    with pytest.raises(CredentialExpired) as expired:
        tokens.user_id(ISSUED[API_TOKEN_SALT][0])
    assert isinstance(expired.value, Gone) and expired.value.reason == "expired"
    with pytest.raises(CredentialInvalid) as invalid:
        tokens.user_id(tokens.issue(42), kind=SESSION_SALT)  # another kind's salt
    assert isinstance(invalid.value, NotAuthenticated) and invalid.value.reason == "invalid"
    with pytest.raises(CredentialInvalid):
        tokens.user_id(SignedFields(SECRET, API_TOKEN_SALT, 1).sign("x"))  # not a number
    with pytest.raises(CredentialInvalid, match="queue ticket"):
        CredentialSigner(SECRET).read_queue_ticket("5~9.AAAA.forged", drop_id=9, ttl_seconds=60)


def test_only_the_declared_number_of_fields_is_signed() -> None:
    with pytest.raises(ValueError, match="2 fields"):
        SignedFields(SECRET, QUEUE_TICKET_SALT, 2).sign(5)
