"""Rate limits: at most `limit` hits per subject in each fixed window, counted in Redis.

The one primitive behind every "N per window" rule (door devices' scans today;
per-IP and per-account limits on sign-in, sign-up and queue join next). One hit is
one atomic script (lua/hit_rate_limit.lua): check, count and set the TTL together,
so two gateways never both take the last unit and no crash leaves a counter that
never expires. Time is an input (`now_ms`), as everywhere in TicketQ.

Fixed windows (aligned to multiples of the window since the epoch) allow up to
twice the limit across one window boundary; for abuse limits that is the accepted
price of one small key per subject and window (docs/architecture.md, "Rate limits").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import RateLimited
from core.redis_keys import RateKey
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry

SCRIPT = "hit_rate_limit"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int  # hits still allowed in this window after this one
    retry_after_s: int  # 0 when allowed; else whole seconds until the window ends


def decide(*, allowed: bool, hits: int, ms_left: int, limit: int) -> RateDecision:
    """The script's answer as a decision (pure: the arithmetic is tested apart from Redis)."""
    return RateDecision(allowed=allowed, remaining=max(limit - hits, 0),
                        retry_after_s=0 if allowed else math.ceil(ms_left / 1000))


async def hit(limiter: ScriptRegistry | ScriptBatcher, key: RateKey, *, limit: int,
              window_s: int, now_ms: int, cost: int = 1) -> RateDecision:
    """Count `cost` hits for `key` unless that passes `limit` in the current window.

    A refused hit counts nothing, so a caller with cost > 1 can still fit smaller ones.
    """
    if cost < 1 or limit < 0 or window_s < 1:
        raise ValueError(f"rate limit needs cost >= 1, limit >= 0, window_s >= 1; "
                         f"got cost={cost} limit={limit} window_s={window_s}")
    window_ms = window_s * 1000
    allowed, hits, ms_left = await limiter.run(
        SCRIPT, [key.window(now_ms // window_ms)], [cost, limit, now_ms, window_ms])
    return decide(allowed=bool(allowed), hits=int(hits), ms_left=int(ms_left), limit=limit)


async def check_rate(limiter: ScriptRegistry | ScriptBatcher, key: RateKey, *, limit: int,
                     window_s: int, now_ms: int, detail: str, cost: int = 1) -> RateDecision:
    """`hit`, raising RateLimited (429 with Retry-After) with `detail` when refused."""
    decision = await hit(limiter, key, limit=limit, window_s=window_s, now_ms=now_ms, cost=cost)
    if not decision.allowed:
        raise RateLimited(detail, retry_after_s=decision.retry_after_s)
    return decision
