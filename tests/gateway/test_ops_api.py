"""Health and metrics (the OpenAPI document: test_openapi.py)."""

from __future__ import annotations

import httpx

from core.embedded import free_port
from core.settings import Settings
from gateway.app import create_app


async def test_healthz_checks_both_servers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok", "postgres": "ok"}
    text = (await client.get("/metrics")).text
    for dependency in ("redis", "postgres"):
        assert f'ticketq_dependency_check_seconds_count{{dependency="{dependency}"}}' in text


async def test_healthz_is_503_naming_what_is_down(settings: Settings) -> None:
    broken = settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["postgres"] == "ok"
    assert body["redis"].startswith("error")


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/api/events")
    text = (await client.get("/metrics")).text
    assert 'ticketq_http_requests_total{method="GET",route="/api/events",status="200"}' in text
    # Templated routes are labelled by their template, convertors left out.
    await client.get("/api/drops/999999999")
    text = (await client.get("/metrics")).text
    assert 'route="/api/drops/{drop_id}",status="404"' in text
    assert "ticketq_http_request_seconds_bucket" in text

