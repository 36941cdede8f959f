"""The development mailbox: GET /dev/mail (a page) and /dev/mail.json, never in production.

They read the folder the demo's dev SMTP server (mail.dev_smtp) writes under
TICKETQ_HOME, so a developer sees what fans would get without a real mail account.
In production both answer 404 before reading anything: the folder would hold other
people's mail.
"""

from __future__ import annotations

from dataclasses import asdict

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from core.errors import NotFound
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas.mail import DevMailbox
from mail.mailbox import StoredMail, mailbox_folder, read_mailbox

_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dev mailbox - TicketQ</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 60em; margin: 1em auto">
<h1>Dev mailbox</h1>
<p>What the worker sent to the demo's SMTP server, newest first
(<a href="/dev/mail.json">JSON</a>). {{ messages|length }} message(s).</p>
{% for m in messages %}
<article style="border-top: 1px solid #ccc; padding: .5em 0">
  <h2 style="font-size: 1.05em; margin: .2em 0">{{ m.subject }}</h2>
  <p style="margin: 0; color: #555">to {{ m.to }} · {{ m.sent_at }} · {{ m.kind or "?" }}
  {% for a in m.attachments %} · {{ a.filename }} ({{ a.content_type }}){% endfor %}</p>
  <pre style="white-space: pre-wrap">{{ m.text }}</pre>
</article>
{% else %}<p>No mail yet.</p>{% endfor %}
</body></html>
""")


def _messages(request: Request) -> list[StoredMail]:
    settings = services_of(request).settings
    if settings.is_production:
        raise NotFound("not found")
    return read_mailbox(mailbox_folder(settings.home))


@documented(response=DevMailbox)
async def dev_mail_json(request: Request) -> Response:
    """The development mailbox as JSON (404 in production)."""
    return JSONResponse({"messages": [asdict(mail) for mail in _messages(request)]})


@documented(media_type="text/html")
async def dev_mail_page(request: Request) -> Response:
    """The development mailbox (404 in production)."""
    return HTMLResponse(_PAGE.render(messages=_messages(request)),
                        headers={"Cache-Control": "no-store"})


routes: list[BaseRoute] = [
    Route("/dev/mail.json", dev_mail_json, methods=["GET"]),
    Route("/dev/mail", dev_mail_page, methods=["GET"]),
]
