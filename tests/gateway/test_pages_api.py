"""Server-rendered pages a person opens first."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx

from tests.support.api import create_drop_setup


async def test_home_lists_published_events_with_their_open_drops(client: httpx.AsyncClient) -> None:
    # Soonest first: an event an hour away heads the list whatever other tests made.
    soon = timedelta(minutes=50)
    published = await create_drop_setup(client, starts_in=soon)
    draft = await create_drop_setup(client, published=False, starts_in=soon)
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'href="/drops/{published.drop_id}"' in page.text
    assert f'href="/drops/{draft.drop_id}"' not in page.text


async def test_login_page_renders_a_form(client: httpx.AsyncClient) -> None:
    page = await client.get("/login?next=/me/tickets")
    assert page.status_code == 200
    assert 'id="login"' in page.text and 'data-next="/me/tickets"' in page.text
    assert '<script src="/static/login.js"' in page.text


async def test_a_bad_home_filter_is_a_page_with_a_message_and_the_api_keeps_its_422(
        client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    # A title no other test's event has: the page lists a limited number of events, and
    # the shared database holds many.
    title = f"Filter show {secrets.token_hex(4)}"
    renamed = await client.patch(f"/api/events/{setup.event_id}", headers=setup.admin.headers,
                                 json={"title": title})
    assert renamed.status_code == 200, renamed.text
    page = await client.get("/", params={"date": "bad", "q": title},
                            headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="filter-problems"' in page.text and "Date must be a day as YYYY-MM-DD" in page.text
    assert f'data-event-id="{setup.event_id}"' in page.text  # the bad filter is left out
    too_long = await client.get("/", params={"q": "x" * 201})
    assert too_long.status_code == 200 and "Q is longer than 200 characters" in too_long.text
    api = await client.get("/api/events?date=bad")
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/")
    assert "YYYY-MM-DD" in api.json()["detail"]
