"""Typing a card into the card field of our pages, as a fan would.

Offline the field is localstripe's Stripe.js mock, which draws plain inputs (placeholders
number, exp_month, exp_year, cvc, postal_code) into our page rather than Stripe's iframe.
"""

from __future__ import annotations

from typing import Any

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # localstripe: declined when charged
THREE_D_SECURE_CARD = "4000002500003155"  # localstripe: asks for 3-D Secure


async def type_card(page: Any, number: str) -> None:
    field = page.locator("#card-field")
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                               ("cvc", "123"), ("postal_code", "75001")):
        box = field.locator(f"input[placeholder='{placeholder}']")
        await box.fill("")
        await box.press_sequentially(value)
