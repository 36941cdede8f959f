"""The fan's and the venue's lottery pages render, and only for whom they should."""

from __future__ import annotations

import httpx

from tests.lottery.conftest import make_lottery
from tests.support.api import create_drop_setup, sign_up


async def test_the_fan_page_shows_the_window_and_the_commitment(api: httpx.AsyncClient) -> None:
    lottery = await make_lottery(api)
    page = await api.get(f"/drops/{lottery.drop_id}/lottery")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert lottery.config["commitment"] in page.text
    assert "/static/lottery.js" in page.text
    fan = await sign_up(api, "fan")
    signed_in = await api.get(f"/drops/{lottery.drop_id}/lottery", headers=fan.headers)
    assert 'data-signed-in="yes"' in signed_in.text
    assert 'id="entry-form"' in signed_in.text


async def test_the_fan_page_refuses_unknown_and_direct_drops(api: httpx.AsyncClient) -> None:
    assert (await api.get("/drops/999999/lottery")).status_code == 404
    assert (await api.get("/drops/junk/lottery")).status_code == 404
    direct = await create_drop_setup(api, mode="direct")
    assert (await api.get(f"/drops/{direct.drop_id}/lottery")).status_code == 404
    unconfigured = await create_drop_setup(api, mode="lottery")
    page = await api.get(f"/drops/{unconfigured.drop_id}/lottery")
    assert page.status_code == 200 and "not set up yet" in page.text


async def test_the_venue_page_is_for_the_venues_admins(api: httpx.AsyncClient) -> None:
    lottery = await make_lottery(api)
    url = f"/venue/drops/{lottery.drop_id}/lottery"
    assert (await api.get(url)).status_code == 401
    fan = await sign_up(api, "fan")
    assert (await api.get(url, headers=fan.headers)).status_code == 403
    page = await api.get(url, headers=lottery.setup.admin.headers)
    assert page.status_code == 200
    assert lottery.config["commitment"] in page.text
    assert 'id="config-form"' in page.text


async def test_lottery_js_is_served(api: httpx.AsyncClient) -> None:
    script = await api.get("/static/lottery.js")
    assert script.status_code == 200
    assert "/lottery/progress" in script.text and "/api/me/entries" in script.text


async def test_openapi_lists_the_lottery_routes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path in ("/api/drops/{drop_id}/lottery", "/api/drops/{drop_id}/entries",
                 "/api/drops/{drop_id}/draw", "/api/me/entries",
                 "/api/drops/{drop_id}/lottery/progress"):
        assert path in paths, path
