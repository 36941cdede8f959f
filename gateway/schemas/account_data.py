"""Password reset, the account's own data (export) and closing the account."""

from __future__ import annotations

from typing import Any, Literal

from gateway.schemas.base import ResponseBody


class ResetRequested(ResponseBody):
    """The same whether or not the email has an account."""

    detail: str


class PasswordReset(ResponseBody):
    password_reset: Literal[True]
    signed_out_everywhere: Literal[True]
    email: str


class AccountExport(ResponseBody):
    """Everything TicketQ holds about the caller (docs/accounts.md, "Your data")."""

    exported_at: str
    account: dict[str, Any]
    sessions: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    lottery_entries: list[dict[str, Any]]
    venue_staff: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    emails: list[dict[str, Any]]


class AccountDeleted(ResponseBody):
    deleted: Literal[True]
    refunded_orders: list[str]
    kept_orders: list[str]
