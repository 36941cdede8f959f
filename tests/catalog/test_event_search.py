"""Fans' event search (catalog/event_search.py) through GET /api/events and the home
page: city, the venue's calendar day, words; drafts and past events stay out."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.api import Account, sign_up


async def _event(client: httpx.AsyncClient, admin: Account, *, city: str, timezone: str,
                 title: str, starts_at: datetime, published: bool = True) -> int:
    venue = await client.post("/api/venues", headers=admin.headers,
                              json={"name": f"Hall {city}", "city": city, "timezone": timezone})
    assert venue.status_code == 201, venue.text
    event = await client.post("/api/events", headers=admin.headers, json={
        "venue_id": venue.json()["id"], "title": title, "description": "Doors at seven",
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        "published": published})
    assert event.status_code == 201, event.text
    event_id: int = event.json()["id"]
    return event_id


async def _ids(client: httpx.AsyncClient, **params: str) -> set[int]:
    found = await client.get("/api/events", params=params)
    assert found.status_code == 200, found.text
    return {event["id"] for event in found.json()["events"]}


async def test_filters_by_city_words_and_the_venues_calendar_day(client: httpx.AsyncClient):
    admin = await sign_up(client, "venue")
    tag = secrets.token_hex(4)
    city = f"Osaka-{tag}"
    # 23:30 in Tokyo on 1 May is 14:30 UTC the same day; 00:30 on 2 May is 15:30 UTC on 1 May.
    late = await _event(client, admin, city=city, timezone="Asia/Tokyo", title=f"Late {tag}",
                        starts_at=datetime(2031, 5, 1, 14, 30, tzinfo=UTC))
    after = await _event(client, admin, city=city, timezone="Asia/Tokyo", title=f"Midnight {tag}",
                         starts_at=datetime(2031, 5, 1, 15, 30, tzinfo=UTC))
    draft = await _event(client, admin, city=city, timezone="Asia/Tokyo", title=f"Draft {tag}",
                         starts_at=datetime(2031, 5, 1, 14, 0, tzinfo=UTC), published=False)
    assert await _ids(client, city=city.upper()) == {late, after}
    assert await _ids(client, city=city, date="2031-05-01") == {late}
    assert await _ids(client, city=city, date="2031-05-02") == {after}
    assert await _ids(client, q=f"midnight {tag}") == {after}
    assert await _ids(client, q=f"hall {city}") == {late, after}  # the venue's name
    assert draft not in await _ids(client, city=city)


async def test_percent_in_the_words_is_a_literal_and_past_events_leave_upcoming(
        client: httpx.AsyncClient):
    admin = await sign_up(client, "venue")
    tag = secrets.token_hex(4)
    past = await _event(client, admin, city=f"Gone-{tag}", timezone="UTC", title=f"Was {tag}",
                        starts_at=datetime.now(UTC) - timedelta(days=2))
    assert await _ids(client, city=f"Gone-{tag}") == {past}
    assert await _ids(client, city=f"Gone-{tag}", upcoming="true") == set()
    assert await _ids(client, q=f"%{tag}") == set()
    home = await client.get("/", params={"city": f"Gone-{tag}"})
    assert home.status_code == 200 and f'data-event-id="{past}"' not in home.text
    assert 'id="no-events"' in home.text


async def test_a_bad_date_or_an_overlong_term_is_a_clear_422(client: httpx.AsyncClient):
    for params in ({"date": "01/05/2031"}, {"q": "x" * 201}):
        refused = await client.get("/api/events", params=params)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    # The home page is for browsers: it says what is wrong beside its form (issue 13).
    home = await client.get("/", params={"date": "tomorrow"})
    assert home.status_code == 200 and 'id="filter-problems"' in home.text
