"""Abuse limits on sign-in and sign-up, on top of core.rate_limits.

- Sign-in, per client address: every attempt counts (`signin-ip`).
- Sign-in, per account: only wrong passwords count (`signin-account`, keyed by a digest of
  the normalised email so no address sits in Redis). Once an account has taken its
  failures in a window, even the right password is refused until the window ends: that
  is what stops guessing, at the price that a stranger can lock an account for a window.
- Sign-up, per client address (`signup-ip`) and per network (`signup-net`: the /24 of an
  IPv4 address, the /56 of an IPv6 one, the usual smallest allocation to one customer).

Addresses in `auth_limit_exempt_networks` skip the per-address and per-network limits,
never the per-account one. The client address is the one the ASGI server reports; it is
the X-Forwarded-For address only when uvicorn's proxy headers are on for a trusted
proxy, never read from the header here (anyone can send one).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass

from core.errors import RateLimited
from core.rate_limits import check_rate, hit
from core.redis_keys import RateKey
from core.scripts import ScriptRegistry
from core.settings import Settings

SIGNUP_WINDOW_S = 3600
SIGNIN_IP_WINDOW_S = 60
TOO_MANY_SIGNINS = "too many sign-in attempts; wait and try again"
TOO_MANY_SIGNUPS = "too many sign-ups from this network; wait and try again"


@functools.lru_cache(maxsize=8)
def _exempt(networks: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    parts = filter(None, (piece.strip() for piece in networks.split(",")))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts)


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as the limits care: an address (None when the server gave none)."""

    address: str | None

    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if self.address is None:
            return None
        try:
            return ipaddress.ip_address(self.address)
        except ValueError:
            return None

    def exempt(self, settings: Settings) -> bool:
        ip = self.ip()
        networks = _exempt(settings.auth_limit_exempt_networks)
        return ip is not None and any(ip in network for network in networks)

    def subject(self) -> str:
        ip = self.ip()
        # No or unparsable address (a test transport, a Unix socket): one shared bucket.
        return ip.compressed if ip is not None else "unknown"

    def network(self) -> str:
        ip = self.ip()
        if ip is None:
            return "unknown"
        prefix = 24 if ip.version == 4 else 56
        return ipaddress.ip_network(f"{ip}/{prefix}", strict=False).compressed


def _account_subject(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


async def check_signin_allowed(scripts: ScriptRegistry, settings: Settings, client: Client,
                               email: str, *, now_ms: int) -> None:
    """Before any hashing: count the attempt against the address, and refuse an account
    that has already taken its failures this window (RateLimited, 429 with Retry-After)."""
    if not client.exempt(settings):
        await check_rate(scripts, RateKey("signin-ip", client.subject()),
                         limit=settings.signin_per_ip_per_minute, window_s=SIGNIN_IP_WINDOW_S,
                         now_ms=now_ms, detail=TOO_MANY_SIGNINS)
    limit = settings.signin_failures_per_account
    # A hit costing more than the limit is always refused and counts nothing, so this
    # reads the failures so far without adding one (core.rate_limits has no separate peek).
    failures = await hit(scripts, RateKey("signin-account", _account_subject(email)),
                         limit=limit, window_s=settings.signin_account_window_s,
                         now_ms=now_ms, cost=limit + 1)
    if failures.remaining == 0:
        raise RateLimited(TOO_MANY_SIGNINS, retry_after_s=failures.retry_after_s)


async def record_signin_failure(scripts: ScriptRegistry, settings: Settings, email: str, *,
                                now_ms: int) -> None:
    await hit(scripts, RateKey("signin-account", _account_subject(email)),
              limit=settings.signin_failures_per_account,
              window_s=settings.signin_account_window_s, now_ms=now_ms)


async def check_signup_allowed(scripts: ScriptRegistry, settings: Settings, client: Client, *,
                               now_ms: int) -> None:
    if client.exempt(settings):
        return
    # The network first: a refused hit counts nothing, so a refused network leaves the
    # address's own quota untouched.
    await check_rate(scripts, RateKey("signup-net", client.network()),
                     limit=settings.signup_per_network_per_hour, window_s=SIGNUP_WINDOW_S,
                     now_ms=now_ms, detail=TOO_MANY_SIGNUPS)
    await check_rate(scripts, RateKey("signup-ip", client.subject()),
                     limit=settings.signup_per_ip_per_hour, window_s=SIGNUP_WINDOW_S,
                     now_ms=now_ms, detail=TOO_MANY_SIGNUPS)
