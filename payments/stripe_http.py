"""The HTTP the Stripe SDK speaks through: one httpx.AsyncClient behind the SDK's
public `stripe.HTTPClient` contract (`request_async`, `sleep_async`, `close_async`).

Why not `stripe.HTTPXClient`: stripe 16 hands httpx the form-encoded body as
`data=<str>`, which httpx deprecates ("Use 'content=<...>'"; a DeprecationWarning,
an error under TicketQ's pytest settings), and it builds its own httpx client with
no way to pass a transport or a split timeout. Both old clients patched that by
overriding its private `_get_request_args_kwargs`; this implements the documented
subclass contract instead, so an SDK upgrade cannot silently change it. The SDK
keeps doing everything else: retries with backoff (`max_network_retries`),
telemetry headers, idempotency keys on retried POSTs.

Calls wait for one of `max_connections` slots before they reach httpx: past its pool,
httpcore queues requests in a list it rescans against every connection whenever one
frees up, so a slow provider with hundreds of checkouts waiting turned the gateway's
event loop into that scan (issue 14's Cluster rehearsal: 80 % of the loop in
`_assign_requests_to_connections`, /healthz late enough for the balancer to take every
gateway out). A semaphore queues them for nothing; its wait counts against the pool
timeout, and a wait past it is a connection error the SDK may retry.

Async only: TicketQ never calls Stripe synchronously, and no streaming endpoint is
used, so the sync and streaming methods keep the base class's NotImplementedError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

import httpx
import stripe

# Stripe answers in well under a second; a connect that takes 5 s is an outage, and
# no call should hold a fan's request (or a settlement slot) longer than 20 s.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Connections to Stripe per process, all kept alive: more only queue at the provider.
DEFAULT_MAX_CONNECTIONS = 64


class StripeHTTP(stripe.HTTPClient):
    name = "ticketq-httpx"

    def __init__(self, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        super().__init__()
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport, limits=limits)
        self._slots = asyncio.Semaphore(max_connections)
        self._slot_wait_s = timeout.pool

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            async with asyncio.timeout(self._slot_wait_s):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]  # untyped in the SDK
                "every connection to Stripe stayed busy", should_retry=True) from exc
        try:
            response = await self._client.request(method, url, headers=headers,
                                                  content=post_data or None)
        except httpx.TransportError as exc:
            # The SDK retries a connection error (should_retry) up to max_network_retries.
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]  # untyped in the SDK
                f"could not reach Stripe ({type(exc).__name__}: {exc})", should_retry=True,
            ) from exc
        finally:
            self._slots.release()
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        await self._client.aclose()
