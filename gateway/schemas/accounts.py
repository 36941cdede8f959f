"""Accounts: sign-up, sign-in, sign-out, who am I."""

from __future__ import annotations

from typing import Literal

from pydantic import RootModel

from gateway.schemas.base import Id, ResponseBody

Role = Literal["admin", "venue_admin", "scanner", "fan"]


class User(ResponseBody):
    id: Id
    email: str
    name: str
    role: Role
    # The account proved it reads mail at `email` (POST /api/auth/verify-email).
    email_verified: bool


class LoginResult(ResponseBody):
    token: str
    user: User
    expires_in: int
    session_id: Id  # what GET /api/me/sessions lists and DELETE /api/me/sessions/{id} ends


class SignedOut(ResponseBody):
    signed_out: bool


class SignedUp(ResponseBody):
    """The same for a new email and a known one (no account enumeration): no id."""

    email: str
    name: str
    role: Literal["fan"]
    detail: str


class PasswordChanged(ResponseBody):
    password_changed: bool
    other_sessions_signed_out: bool


class SessionInfo(ResponseBody):
    id: Id
    created_at: str
    user_agent: str
    current: bool


class SessionList(ResponseBody):
    sessions: list[SessionInfo]


class EmailVerified(ResponseBody):
    email_verified: Literal[True]
    email: str


class VerificationResent(ResponseBody):
    """The same whether or not a mail went out (already verified: none is needed)."""

    detail: str


class TotpChallenge(ResponseBody):
    """Sign-in's first step for an account with 2FA: no token yet; answer the challenge
    with a code at POST /api/auth/login/totp."""

    totp_required: Literal[True]
    challenge: str
    expires_in: int


class LoginAnswer(RootModel[LoginResult | TotpChallenge]):
    """A signed-in session, or (2FA on) the challenge to answer first."""


class TotpEnrolment(ResponseBody):
    """A pending secret: add it to an authenticator app, then confirm with a code."""

    secret: str
    otpauth_uri: str


class RecoveryCodes(ResponseBody):
    """Shown once: each works once in place of a code."""

    recovery_codes: list[str]


class TotpStatus(ResponseBody):
    enabled: bool
    pending: bool
    recovery_codes_left: int
