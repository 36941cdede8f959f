"""Which Stripe.js a page loads, and the origins the CSP then allows, per deployment."""

from __future__ import annotations

from core.settings import Settings
from payments.stripe_js import OFFLINE_PUBLISHABLE_KEY, STRIPE_SCRIPT, stripe_js


def test_offline_loads_localstripes_mock_from_its_loopback_origin(settings: Settings) -> None:
    offline = stripe_js(settings.replace(stripe_api_key="sk_test_x",
                                         stripe_api_base="http://127.0.0.1:8420"))
    assert offline is not None
    assert offline.script_url == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert (offline.flavour, offline.publishable_key) == ("localstripe", OFFLINE_PUBLISHABLE_KEY)
    assert offline.script_origins == offline.connect_origins == ("http://127.0.0.1:8420",)
    assert offline.frame_origins == ()


def test_real_stripe_needs_the_publishable_key(settings: Settings) -> None:
    live = settings.replace(stripe_api_key="sk_live_x")
    assert stripe_js(live) is None  # no publishable key: the pages take no card
    real = stripe_js(live.replace(stripe_publishable_key="pk_live_abc"))
    assert real is not None
    assert (real.script_url, real.flavour, real.publishable_key) == (
        STRIPE_SCRIPT, "stripe", "pk_live_abc")
    assert real.connect_origins == ("https://api.stripe.com",)
    assert "https://hooks.stripe.com" in real.frame_origins
    assert all(origin.endswith("stripe.com") for origin in
               real.script_origins + real.connect_origins + real.frame_origins)


def test_no_api_key_no_card_field(settings: Settings) -> None:
    assert stripe_js(settings.replace(stripe_api_key=None)) is None
