"""Talking to the test localstripe directly, the way a card network or a fan's browser would."""

from __future__ import annotations

import httpx

THREE_D_SECURE_CARD = "4000002500003155"  # localstripe asks for authentication on this number
AUTH = {"Authorization": "Bearer sk_test_purchase"}


async def card_needing_authentication(localstripe_url: str) -> str:
    async with httpx.AsyncClient(base_url=localstripe_url, headers=AUTH) as http:
        created = await http.post("/v1/payment_methods", data={
            "type": "card", "card[number]": THREE_D_SECURE_CARD, "card[exp_month]": "12",
            "card[exp_year]": "2030", "card[cvc]": "123"})
        created.raise_for_status()
        return str(created.json()["id"])


async def authenticate(localstripe_url: str, intent_id: str, client_secret: str) -> None:
    """The fan passes 3-D Secure: the intent's charge succeeds now."""
    async with httpx.AsyncClient(base_url=localstripe_url) as http:
        answer = await http.post(f"/v1/payment_intents/{intent_id}/_authenticate", data={
            "client_secret": client_secret, "success": "true", "key": "pk_test_purchase"})
        answer.raise_for_status()


async def refunds_of(localstripe_url: str, intent_id: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=localstripe_url, headers=AUTH) as http:
        listed = await http.get("/v1/refunds", params={"payment_intent": intent_id})
        listed.raise_for_status()
        return list(listed.json()["data"])


async def intent_status(localstripe_url: str, intent_id: str) -> str:
    async with httpx.AsyncClient(base_url=localstripe_url, headers=AUTH) as http:
        answer = await http.get(f"/v1/payment_intents/{intent_id}")
        answer.raise_for_status()
        return str(answer.json()["status"])
