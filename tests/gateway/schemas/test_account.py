"""The account page's schemas describe what the endpoints really send, nothing more."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from core.redis_client import RedisClient
from core.redis_keys import RateKey
from gateway.schemas.account import EmailChanged, EmailChangeRequested, IdentityUnlinked
from tests.support.api import sign_up, unique_email


async def test_a_real_email_change_request_validates(client: httpx.AsyncClient,
                                                     redis: RedisClient) -> None:
    account = await sign_up(client)
    # Ids repeat across runs (each run's database starts empty): an earlier run's counter.
    tag = RateKey("email-change", str(account.id)).tag
    stale = [key async for key in redis.scan_iter(match=f"{tag}:*")]
    if stale:
        await redis.delete(*stale)
    asked = await client.post("/api/me/email", headers=account.headers, json={
        "new_email": unique_email("schema"), "password": account.password})
    assert asked.status_code == 202, asked.text
    EmailChangeRequested.model_validate(asked.json())


def test_undeclared_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        EmailChangeRequested.model_validate({"detail": "x", "user_id": 1})
    with pytest.raises(ValidationError):
        EmailChanged.model_validate({"email_changed": False, "email": "a@b.c",
                                     "email_verified": True})
    with pytest.raises(ValidationError):
        IdentityUnlinked.model_validate({"unlinked": "google", "subject": "x"})
