"""The venue dashboard's live numbers of a drop."""

from __future__ import annotations

from datetime import timedelta

import httpx

from core.redis_keys import DropKeys
from gateway.context import app_services
from tests.support.api import create_drop_setup, sign_up


async def test_stats_count_the_prequeue_for_the_venue_admin(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client, opens_in=timedelta(minutes=5))
    fans = [await sign_up(client) for _ in range(3)]
    for fan in fans:
        joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
        assert joined.status_code in (200, 201), joined.text
    stats = await client.get(f"/api/drops/{setup.drop_id}/stats", headers=setup.admin.headers)
    assert stats.status_code == 200, stats.text
    queue = stats.json()["queue"]
    assert queue["phase"] == "prequeue"
    assert queue["prequeue"] == 3 and queue["waiting"] == 0 and queue["active_passes"] == 0
    assert queue["configured_admit_per_minute"] == 600
    assert queue["tickets_in_carts"] is False
    assert stats.json()["event_id"] == setup.event_id


async def test_stats_say_when_every_seat_is_in_a_cart(client: httpx.AsyncClient, app) -> None:
    setup = await create_drop_setup(client)
    path = f"/api/drops/{setup.drop_id}/stats"
    await client.post(f"/api/drops/{setup.drop_id}/queue", headers=(await sign_up(client)).headers)
    # What purchase's reserve_hold writes when it holds the last seat (tests/purchase covers that).
    await app_services(app).scripts.client.hset(DropKeys(setup.drop_id).meta, "sold_out", "held")
    queue = (await client.get(path, headers=setup.admin.headers)).json()["queue"]
    assert (queue["phase"], queue["tickets_in_carts"]) == ("open", True)


async def test_stats_are_for_the_venue_admins_only(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    other_admin = (await create_drop_setup(client)).admin
    fan = await sign_up(client)
    path = f"/api/drops/{setup.drop_id}/stats"
    assert (await client.get(path, headers=other_admin.headers)).status_code == 403
    assert (await client.get(path, headers=fan.headers)).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (
        await client.get("/api/drops/999999/stats", headers=setup.admin.headers)
    ).status_code == 404


async def test_dashboard_page_renders(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    page = await client.get(f"/venue/drops/{setup.drop_id}")
    assert page.status_code == 200 and "/static/dashboard.js" in page.text
    assert f'data-drop-id="{setup.drop_id}"' in page.text


async def test_event_page_renders_its_frame(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    page = await client.get(f"/venue/events/{setup.event_id}")
    assert page.status_code == 200 and "/static/venue_event.js" in page.text
    assert f'data-event-id="{setup.event_id}"' in page.text
    assert (await client.get("/venue/events/0")).status_code == 404
