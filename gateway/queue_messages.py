"""The JSON a fan receives about their place, over WebSocket and from GET .../queue."""

from __future__ import annotations

import json
from typing import Any

from core.clock import from_ms
from gateway.serialize import iso
from queue_engine.credentials import CredentialSigner
from queue_engine.waiting_room import FanView


def pass_fields(signer: CredentialSigner, view: FanView, *, drop_id: int, fan_id: int,
                token: str | None = None) -> dict[str, Any]:
    """The signed admission pass and where to use it (only once admitted). The page's URL
    carries no pass: it reads the fan's own from GET .../queue (docs/security.md)."""
    if view.pass_id is None or view.pass_expires_ms is None:
        return {}
    token = token or signer.admission_pass(fan_id, drop_id, view.pass_id, view.pass_expires_ms)
    return {"pass": token, "pass_expires_at": iso(from_ms(view.pass_expires_ms)),
            "purchase_url": f"/drops/{drop_id}/buy"}


def fan_json(view: FanView, *, now_ms: int, passes: dict[str, Any],
             queue_ticket: str | None = None) -> dict[str, Any]:
    """`queue_ticket` (HTTP answers only, for old clients) comes first, as it always has."""
    body: dict[str, Any] = {"queue_ticket": queue_ticket} if queue_ticket is not None else {}
    body.update(view.fields())
    if passes and view.pass_expires_ms is not None:
        body.update(passes)
        body["pass_expires_in_s"] = max(0, (view.pass_expires_ms - now_ms) // 1000)
    return body


def message_text(body: dict[str, Any]) -> str:
    """A WebSocket message as sent (Starlette's `send_json` encoding). Sockets remember
    this text, not the dict, to skip repeats: a third of the size, kept per socket."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def retry_after_s(view: FanView) -> int:
    """When a polling client should ask again: soon near the front, rarely far back."""
    if view.state in {"closed", "sold_out", "expired"}:
        return 30
    if view.state == "admitted" or view.position is None:
        return 5
    return 2 if view.position <= 100 else min(15, 2 + view.position // 500)
