"""The account data schemas describe what the endpoints really send, nothing more."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from gateway.schemas.account_data import AccountDeleted, AccountExport, ResetRequested
from tests.support.api import sign_up


async def test_a_real_export_and_deletion_validate_against_their_schemas(
        client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    exported = (await client.get("/api/me/export", headers=account.headers)).json()
    assert set(exported) == set(AccountExport.model_fields)
    AccountExport.model_validate(exported)
    deleted = await client.request("DELETE", "/api/me", headers=account.headers,
                                   json={"password": account.password})
    AccountDeleted.model_validate(deleted.json())
    asked = await client.post("/api/auth/password-reset", json={"email": account.email})
    ResetRequested.model_validate(asked.json())


def test_undeclared_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        ResetRequested.model_validate({"detail": "x", "user_id": 1})
    with pytest.raises(ValidationError):
        AccountDeleted.model_validate({"deleted": False, "refunded_orders": [],
                                       "kept_orders": []})
