"""The fan's purchase page and order list render; the API they call is tested elsewhere."""

from __future__ import annotations

from tests.purchase.conftest import Shop


async def test_buy_page_lists_tiers_and_test_cards(shop: Shop) -> None:
    fan = await shop.fan()
    page = await shop.api.get(f"/drops/{shop.drop_id}/buy", params={"pass": fan.admission_pass},
                              headers=fan.account.headers)
    assert page.status_code == 200
    html = page.text
    assert 'data-signed-in="yes"' in html
    for text in ("GA", "VIP", "50.00 EUR", "150.00 EUR", "pm_card_visa",
                 "pm_card_chargeCustomerFail", "/static/buy.js", 'max="2"'):
        assert text in html, text
    anonymous = await shop.api.get(f"/drops/{shop.drop_id}/buy")
    assert 'data-signed-in="no"' in anonymous.text
    assert (await shop.api.get("/drops/99999999/buy")).status_code == 404
    assert (await shop.api.get("/drops/nope/buy")).status_code == 404
    script = await shop.api.get("/static/buy.js")
    assert script.status_code == 200 and "X-Admission-Pass" in script.text
    orders = await shop.api.get("/me/orders")
    assert orders.status_code == 200 and 'id="orders"' in orders.text
