"""The lottery fan page prints the draw on the venue's clock, with the zone named."""

from __future__ import annotations

import httpx

from tests.lottery.conftest import make_lottery


async def test_the_draw_time_is_the_venues_wall_clock_not_raw_iso(
        client: httpx.AsyncClient) -> None:
    lottery = await make_lottery(client)
    page = await client.get(f"/drops/{lottery.drop_id}/lottery")
    assert page.status_code == 200
    draw_iso = lottery.config["draw_at"]
    cell = page.text.split('data-field="draw_at"', 1)[1].split("</time>", 1)[0]
    shown = cell.split(">", 1)[1]
    assert draw_iso not in shown
    assert shown.endswith((" (CET)", " (CEST)")), shown  # the venue is in Europe/Paris
