"""Accounts: sign-up, sign-in, sign-out, who am I."""

from __future__ import annotations

from typing import Literal

from gateway.schemas.base import Id, ResponseBody

Role = Literal["admin", "venue_admin", "scanner", "fan"]


class User(ResponseBody):
    id: Id
    email: str
    name: str
    role: Role


class LoginResult(ResponseBody):
    token: str
    user: User
    expires_in: int


class SignedOut(ResponseBody):
    signed_out: bool
