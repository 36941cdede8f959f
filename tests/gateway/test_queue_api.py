"""The waiting room's HTTP API: join, poll, leave, refusals, operator controls, metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bootstrap.queue_configs import live_drop_configs
from core.clock import to_ms, utcnow
from core.models import AuditEntry
from core.redis_keys import DropKeys
from gateway.context import app_services
from queue_engine.admission import tick_drop
from queue_engine.passes import admit_batch
from tests.support.api import create_drop_setup, sign_up
from tests.support.waiting import eventually


async def test_join_then_rejoin_returns_the_same_place(client):
    setup = await create_drop_setup(client)
    first_fan, fan = await sign_up(client), await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=first_fan.headers)).status_code == 201
    joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text
    body = joined.json()
    assert (body["state"], body["position"], body["ahead"]) == ("waiting", 2, 1)
    assert body["estimated_wait_s"] >= 1 and body["queue_ticket"]
    again = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert again.status_code == 200
    assert (again.json()["position"], again.json()["ahead"]) == (2, 1)


async def test_100_concurrent_duplicate_joins_over_http(client):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    answers = await asyncio.gather(*(
        client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers) for _ in range(100)
    ))
    assert sorted(a.status_code for a in answers) == [200] * 99 + [201]
    assert {a.json()["position"] for a in answers} == {1}


async def test_poll_with_your_session_and_see_the_pass(client, app):
    setup = await create_drop_setup(client, max_active=10)
    fan, other = await sign_up(client), await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    polled = await client.get(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert polled.status_code == 200, polled.text
    assert polled.json()["state"] == "waiting" and polled.headers["Retry-After"] == "2"
    assert polled.json()["queue_ticket"] and polled.json()["position"] == 1
    assert "pass" not in polled.json()
    # Another fan's session sees their own (absent) place, never this one.
    assert (await client.get(f"/api/drops/{setup.drop_id}/queue",
                             headers=other.headers)).status_code == 404
    assert (await client.get(f"/api/drops/{setup.drop_id}/queue")).status_code == 401
    await admit_batch(app_services(app).scripts, setup.drop_id, now_ms=to_ms(utcnow()) + 1000)
    admitted = (await client.get(f"/api/drops/{setup.drop_id}/queue",
                                 headers=fan.headers)).json()
    assert admitted["state"] == "admitted"
    assert admitted["purchase_url"] == f"/drops/{setup.drop_id}/buy"
    assert 590 < admitted["pass_expires_in_s"] <= 601  # admitted 1 s "ahead" of the clock


@pytest.mark.parametrize("ticket", ["", "garbage", "a.b.c"])
async def test_tickets_in_the_url_are_refused(client, ticket):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    for method in ("GET", "DELETE"):
        answer = await client.request(method, f"/api/drops/{setup.drop_id}/queue",
                                      params={"ticket": ticket}, headers=fan.headers)
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"


async def test_join_refusals(client, app):
    fan = await sign_up(client)
    assert (await client.post("/api/drops/999999999/queue", headers=fan.headers)).status_code == 404
    assert (await client.post("/api/drops/abc/queue", headers=fan.headers)).status_code == 404
    setup = await create_drop_setup(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue")).status_code == 401
    draft = await create_drop_setup(client, published=False)
    assert (await client.post(f"/api/drops/{draft.drop_id}/queue",
                              headers=fan.headers)).status_code == 404
    lottery = await create_drop_setup(client, mode="lottery")
    entered = await client.post(f"/api/drops/{lottery.drop_id}/queue", headers=fan.headers)
    assert entered.status_code == 409 and entered.json()["reason"] == "lottery"
    later = await create_drop_setup(client, opens_in=timedelta(hours=1))
    early = await client.post(f"/api/drops/{later.drop_id}/queue", headers=fan.headers)
    assert early.status_code == 409 and early.json()["reason"] == "not_open"
    soon = await create_drop_setup(client, opens_in=timedelta(minutes=5))
    pre = await client.post(f"/api/drops/{soon.drop_id}/queue", headers=fan.headers)
    assert pre.status_code == 201 and pre.json()["state"] == "prequeue"
    assert pre.json()["position"] is None
    # Sold out (set by the purchase part) refuses joins; positions report it.
    await app_services(app).redis.hset(DropKeys(setup.drop_id).meta, "sold_out", "1")
    sold = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert sold.status_code == 409 and sold.json()["reason"] == "sold_out"
    closed = await client.post(f"/api/drops/{setup.drop_id}/close", headers=setup.admin.headers)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    refused = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert refused.status_code == 409 and refused.json()["reason"] == "closed"


async def test_a_draft_events_drop_is_hidden_on_every_join_until_published(client, app):
    draft = await create_drop_setup(client, published=False)
    fan = await sign_up(client)
    url, meta = f"/api/drops/{draft.drop_id}/queue", DropKeys(draft.drop_id).meta
    redis = app_services(app).redis
    assert not await redis.exists(meta)
    assert (await client.post(url, headers=fan.headers)).status_code == 404  # before any sync
    # The worker ticks drafts too, so their meta says "not visible" from Redis alone.
    now = utcnow()
    config = next(c for c in await live_drop_configs(app_services(app).sessionmaker, now)
                  if c.drop_id == draft.drop_id)
    assert config.visible is False
    await tick_drop(redis, app_services(app).scripts, config, now_ms=to_ms(now), grace_ms=60_000)
    assert await redis.hmget(meta, "synced", "visible") == [b"1", b"0"]
    hidden = await client.post(url, headers=fan.headers)
    assert hidden.status_code == 404 and hidden.json()["detail"] == "no such drop"
    assert not await redis.exists(DropKeys(draft.drop_id).fan_seq)
    published = await client.post(f"/api/events/{draft.event_id}/publish",
                                  headers=draft.admin.headers)
    assert published.status_code == 200, published.text
    assert await redis.hget(meta, "visible") == b"1"  # at once, not on the next tick
    joined = await client.post(url, headers=fan.headers)
    assert joined.status_code == 201 and joined.json()["state"] == "waiting"


async def test_leave_gives_the_place_up(client):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    left = await client.delete(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert left.json() == {"left": True}
    assert (await client.get(f"/api/drops/{setup.drop_id}/queue",
                             headers=fan.headers)).status_code == 404


async def test_operator_controls_are_audited_and_reach_redis(client, app, sessionmaker):
    setup = await create_drop_setup(client)
    url = f"/api/drops/{setup.drop_id}"
    fan, stranger = await sign_up(client), await sign_up(client, "venue")
    await client.post("/api/venues", headers=stranger.headers,
                      json={"name": "Other", "city": "Nice", "timezone": "Europe/Paris"})
    for who in (fan, stranger):
        assert (await client.post(f"{url}/pause", headers=who.headers)).status_code == 403
        assert (await client.patch(url, headers=who.headers,
                                   json={"max_active": 5})).status_code == 403
    assert (await client.post(f"{url}/pause")).status_code == 401
    meta = DropKeys(setup.drop_id).meta
    paused = await client.post(f"{url}/pause", headers=setup.admin.headers)
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    assert await app_services(app).redis.hget(meta, "state") == b"paused"
    resumed = await client.post(f"{url}/resume", headers=setup.admin.headers)
    assert resumed.json()["state"] == "open"
    patched = await client.patch(url, headers=setup.admin.headers,
                                 json={"admit_per_minute": 90, "max_active": 7})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["admit_per_minute"], patched.json()["max_active"]) == (90, 7)
    pacing = await app_services(app).redis.hmget(meta, "admit_per_minute", "max_active")
    assert pacing == [b"90", b"7"]
    for bad in ({}, {"max_active": 0}, {"max_active": "5"}, {"speed": 3}):
        answer = await client.patch(url, headers=setup.admin.headers, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
    assert (await client.patch(url, headers=setup.admin.headers, content=b"{")).status_code == 415
    assert (await client.patch(url, headers={**setup.admin.headers,
                                             "content-type": "application/json"},
                               content=b"{")).status_code == 400
    assert (await client.post(f"{url}/close", headers=setup.admin.headers)).status_code == 200
    assert (await client.post(f"{url}/resume", headers=setup.admin.headers)).status_code == 409
    async with sessionmaker() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_type == "drop",
                                            AuditEntry.subject_id == str(setup.drop_id))
            .order_by(AuditEntry.id)))
    assert actions == ["drop.create", "drop.pause", "drop.resume", "drop.pacing", "drop.close"]


async def test_revoking_a_pass(client, app):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    await admit_batch(app_services(app).scripts, setup.drop_id, now_ms=to_ms(utcnow()) + 1000)
    url = f"/api/drops/{setup.drop_id}/passes/{fan.id}/revoke"
    assert (await client.post(url, headers=fan.headers)).status_code == 403
    assert (await client.post(url, headers=setup.admin.headers)).json() == {"revoked": True}
    polled = await client.get(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert polled.json()["state"] == "expired"


async def test_metrics_per_drop(client):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    wanted = f'ticketq_queue_length{{drop="{setup.drop_id}"}} 1.0'

    async def metrics_with_length() -> str | None:
        text = (await client.get("/metrics")).text
        return text if wanted in text else None

    text = await eventually(metrics_with_length, message=f"{wanted} on /metrics")
    assert f'ticketq_queue_join_seconds_count{{drop="{setup.drop_id}"}} 1.0' in text
    for name in ("ticketq_queue_active_passes", "ticketq_queue_admitted_per_minute",
                 "ticketq_queue_websockets", "ticketq_queue_admit_per_minute_target"):
        assert f'{name}{{drop="{setup.drop_id}"}}' in text


async def test_fan_page(client):
    setup = await create_drop_setup(client)
    page = await client.get(f"/drops/{setup.drop_id}")
    assert page.status_code == 200 and 'data-signed-in="no"' in page.text
    assert "/static/queue.js" in page.text
    assert (await client.get("/drops/999999999")).status_code == 404
    lottery = await create_drop_setup(client, mode="lottery")
    moved = await client.get(f"/drops/{lottery.drop_id}")
    assert moved.status_code == 303 and moved.headers["location"].endswith("/lottery")
