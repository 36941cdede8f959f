"""The waiting room: a fan's place (join, poll, WebSocket messages) and operator answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from gateway.schemas.base import ResponseBody

FanState = Literal["prequeue", "waiting", "admitted", "expired", "closed", "sold_out"]


class QueueMessage(ResponseBody):
    """Where a fan stands (gateway/queue_messages.py); the pass fields only once admitted."""

    state: FanState
    position: int | None = Field(description="1 at the front; null unless waiting")
    ahead: int | None
    estimated_wait_s: int | None
    paused: bool
    line_length: int
    tickets_in_carts: bool = Field(
        description="nothing is left to buy right now, but carts may still expire")
    # Present only once admitted:
    pass_: str | None = Field(None, alias="pass", description="the signed admission pass")
    pass_expires_at: datetime | None = None
    pass_expires_in_s: int | None = None
    purchase_url: str | None = None


class QueuePlace(QueueMessage):
    """A join's answer: the place, and the queue ticket for the WebSocket and polling."""

    queue_ticket: str


class QueuePoll(QueuePlace):
    retry_after_s: int = Field(description="when to poll again (also the Retry-After header)")


class LeftQueue(ResponseBody):
    left: bool


class PassRevoked(ResponseBody):
    revoked: bool


class ChallengeParameters(ResponseBody):
    """altcha's v2 challenge parameters (camelCase, as its widget and libraries read them)."""

    algorithm: str
    cost: int
    keyLength: int
    keyPrefix: str
    nonce: str
    salt: str
    keySignature: str
    expiresAt: int = Field(description="Unix seconds")
    data: dict[str, str] = Field(description="the drop and fan it is for")


class JoinChallenge(ResponseBody):
    """A proof-of-work challenge for one join (altcha v2): find the counter whose key
    starts with keyPrefix, then POST the altcha payload as the join's `challenge`."""

    parameters: ChallengeParameters
    signature: str
