"""The fan's purchase page and order list render; the API they call is tested elsewhere."""

from __future__ import annotations

from tests.purchase.conftest import Shop


async def test_buy_page_lists_tiers_and_the_card_field(shop: Shop, localstripe_url: str) -> None:
    fan = await shop.fan()
    page = await shop.api.get(f"/drops/{shop.drop_id}/buy", headers=fan.account.headers)
    assert page.status_code == 200
    html = page.text
    assert 'data-signed-in="yes"' in html
    for text in ("GA", "VIP", "50.00 EUR", "150.00 EUR", "/static/buy.js", 'max="2"',
                 'id="card-field"', 'data-stripe-flavour="localstripe"',
                 f'src="{localstripe_url}/js.stripe.com/v3/"', "/static/card_field.js",
                 "4242 4242 4242 4242", "4000 0000 0000 0341", "4000 0025 0000 3155"):
        assert text in html, text
    assert "pm_card" not in html  # the API's test shortcuts are not the fan's
    # Only the card pages may load Stripe.js: the localstripe origin, in script and connect.
    csp = page.headers["content-security-policy"]
    assert f"script-src 'self' {localstripe_url}" in csp and f" {localstripe_url}" in csp.split(
        "connect-src")[1]
    other = await shop.api.get("/me/orders")
    assert localstripe_url not in other.headers["content-security-policy"]
    anonymous = await shop.api.get(f"/drops/{shop.drop_id}/buy")
    assert 'data-signed-in="no"' in anonymous.text
    assert (await shop.api.get("/drops/99999999/buy")).status_code == 404
    assert (await shop.api.get("/drops/nope/buy")).status_code == 404
    script = await shop.api.get("/static/buy.js")
    assert script.status_code == 200 and "X-Admission-Pass" in script.text
    orders = await shop.api.get("/me/orders")
    assert orders.status_code == 200 and 'id="orders"' in orders.text
