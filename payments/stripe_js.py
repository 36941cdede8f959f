"""Which Stripe.js a fan's page loads, with which publishable key, and what the CSP must allow.

Card data goes from the fan's browser to Stripe only (PCI SAQ A): our pages load
Stripe.js, which mounts the card field, and TicketQ sees only ids and client secrets.

- Real Stripe (STRIPE_API_BASE unset or api.stripe.com): https://js.stripe.com/v3/
  with STRIPE_PUBLISHABLE_KEY. Its card field and 3-D Secure challenge live in frames
  from js.stripe.com and hooks.stripe.com, and it calls api.stripe.com.
- Offline (localstripe): localstripe serves its Stripe.js mock at
  `<base>/js.stripe.com/v3/`; the mock draws plain inputs into our page and calls
  localstripe itself, so its loopback origin is the only one the CSP adds. Any
  `pk_` key works there (the mock sends it as `key`); a fixed one is used if unset.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.settings import Settings

STRIPE_SCRIPT = "https://js.stripe.com/v3/"
OFFLINE_PUBLISHABLE_KEY = "pk_test_localstripe"


@dataclass(frozen=True)
class StripeJs:
    script_url: str
    publishable_key: str
    # "stripe" or "localstripe": the mock cannot confirm a PaymentIntent with a card
    # in the browser, so the page takes a different (documented) path with it.
    flavour: str
    script_origins: tuple[str, ...]
    connect_origins: tuple[str, ...]
    frame_origins: tuple[str, ...]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_js(settings: Settings) -> StripeJs | None:
    """The Stripe.js of this deployment, or None when no card can be taken (no API key,
    or real Stripe without a publishable key)."""
    if not settings.stripe_api_key:
        return None
    base = str(settings.stripe_api_base).rstrip("/") if settings.stripe_api_base else None
    if base is None or urlsplit(base).hostname == "api.stripe.com":
        if not settings.stripe_publishable_key:
            return None
        return StripeJs(
            script_url=STRIPE_SCRIPT, publishable_key=settings.stripe_publishable_key,
            flavour="stripe",
            script_origins=("https://js.stripe.com", "https://*.js.stripe.com"),
            connect_origins=("https://api.stripe.com",),
            frame_origins=("https://js.stripe.com", "https://*.js.stripe.com",
                           "https://hooks.stripe.com"),
        )
    origin = _origin(base)
    return StripeJs(
        script_url=f"{base}/js.stripe.com/v3/",
        publishable_key=settings.stripe_publishable_key or OFFLINE_PUBLISHABLE_KEY,
        flavour="localstripe", script_origins=(origin,), connect_origins=(origin,),
        frame_origins=(),
    )
