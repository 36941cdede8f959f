"""`GET /api/orders/{id}/tickets.pdf`: an order's tickets to print (scanner/ticket_pdf.py).

The holder and the event venue's admins get it; anyone else a 404, as for every other
thing they may not see; no session, 401. An order that is not paid, or has no valid
ticket left, is a 409.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.auth import require_user
from gateway.context import services_of
from gateway.openapi import documented
from mail.attachments import tickets_pdf_filename
from scanner.ticket_pdf import render_pdf, viewable_order_tickets

PDF = "application/pdf"


@documented(auth="user", media_type=PDF)
async def tickets_pdf(request: Request) -> Response:
    """The order's valid tickets as a PDF, one page each, with their printed QR codes."""
    user = await require_user(request)
    order_id = str(request.path_params["order_id"])
    services = services_of(request)
    async with services.sessionmaker() as session:
        order = await viewable_order_tickets(session, services.ticket_keyring, user, order_id)
    # ~30 ms of CPU a page: off the event loop, so other requests are not held up.
    pdf = await asyncio.to_thread(render_pdf, order)
    # no-store: the pages carry admission codes; not for shared caches or the back button.
    return Response(pdf, media_type=PDF, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="{tickets_pdf_filename(order_id)}"'})


routes: list[BaseRoute] = [
    Route("/api/orders/{order_id:uuid}/tickets.pdf", tickets_pdf, methods=["GET"]),
]
