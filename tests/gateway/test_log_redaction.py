"""The gateway's own log lines carry no credential, even when a client puts one in a URL."""

from __future__ import annotations

import json
import logging

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.log_redaction import REDACTED, RedactUrlCredentials, install, redact
from tests.support.api import create_drop_setup, sign_up
from tests.support.processes import gateway_process, service_env
from tests.support.waiting import eventually


def test_redact_blanks_credential_values_only() -> None:
    assert redact('GET /api/drops/1/queue?ticket=5~1.abc.def HTTP/1.1') == (
        f"GET /api/drops/1/queue?ticket={REDACTED} HTTP/1.1")
    assert redact("/drops/1/buy?a=1&PASS=x%7Ey&b=2") == f"/drops/1/buy?a=1&PASS={REDACTED}&b=2"
    assert redact("/me/orders?tickets=3") == "/me/orders?tickets=3"


def test_redact_blanks_the_oidc_callbacks_code_and_state() -> None:
    line = "GET /api/auth/oidc/google/callback?state=s1.sig&code=4/0Ab-secret HTTP/1.1"
    assert redact(line) == (f"GET /api/auth/oidc/google/callback?state={REDACTED}"
                            f"&code={REDACTED} HTTP/1.1")
    assert redact("/api/events?country_code=SE") == "/api/events?country_code=SE"


def test_filter_rewrites_arguments_and_install_is_idempotent() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/x?token=secret", "1.1", 400), None)
    assert RedactUrlCredentials().filter(record)
    assert "secret" not in record.getMessage() and REDACTED in record.getMessage()
    install(("ticketq.test.redaction",))
    install(("ticketq.test.redaction",))
    assert len(logging.getLogger("ticketq.test.redaction").filters) == 1


async def test_live_gateway_logs_no_ticket_or_pass(client, services):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    ticket = (await client.post(queue, headers=fan.headers)).json()["queue_ticket"]
    env = service_env(services.redis_url, services.database_url)
    with gateway_process(env, services.folder / "logs", log_level="info") as gateway:
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            assert (await http.get(queue, params={"ticket": ticket})).status_code == 400
            assert (await http.delete(queue, params={"ticket": ticket})).status_code == 400
            buy = await http.get(f"/drops/{setup.drop_id}/buy", params={"pass": ticket})
            assert buy.status_code == 400
        socket_url = f"{gateway.url.replace('http', 'ws', 1)}{queue.replace('/api', '/ws')}"
        async with connect(f"{socket_url}?ticket={ticket}", additional_headers=fan.headers) as ws:
            try:
                json.loads(await ws.recv())
                raise AssertionError("a ticket in the socket's URL was accepted")
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4400

        async def logged_all_four() -> str | None:
            text = gateway.log()
            return text if text.count(REDACTED) >= 4 else None

        log_text = await eventually(logged_all_four, timeout_s=10,
                                    message="four redacted request lines in the gateway log")
    assert ticket not in log_text and fan.token not in log_text
    assert f"{queue}?ticket={REDACTED}" in log_text and "WebSocket" in log_text
