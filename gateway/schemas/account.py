"""The account page's own changes: name, email (verified first), linked identities."""

from __future__ import annotations

from typing import Literal

from gateway.schemas.base import ResponseBody


class EmailChangeRequested(ResponseBody):
    """The same whether or not the new address is free (no account enumeration)."""

    detail: str


class EmailChanged(ResponseBody):
    email_changed: Literal[True]
    email: str
    email_verified: Literal[True]


class IdentityUnlinked(ResponseBody):
    unlinked: str  # the provider's name, e.g. "google"
