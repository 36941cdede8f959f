"""`make demo` pays offline: a localstripe process whose signed webhooks target the gateway."""

from __future__ import annotations

import subprocess

import httpx

from core.settings import Settings
from purchase.demo_stripe import DEMO_API_KEY, DEMO_WEBHOOK_SECRET, start_demo_stripe


def test_start_demo_stripe_runs_a_localstripe_for_the_gateway(settings: Settings, tmp_path) -> None:
    children: list[subprocess.Popen[bytes]] = []
    demo = settings.replace(home=tmp_path, stripe_api_key=None)
    env = start_demo_stripe(demo, 8765, children)
    try:
        assert env["STRIPE_API_KEY"] == DEMO_API_KEY
        assert env["STRIPE_WEBHOOK_SECRET"] == DEMO_WEBHOOK_SECRET
        answer = httpx.post(f"{env['STRIPE_API_BASE']}/v1/payment_intents",
                            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
                            data={"amount": "100", "currency": "eur",
                                  "payment_method": "pm_card_visa"})
        assert answer.status_code == 200, answer.text
        assert len(children) == 1 and children[0].poll() is None
    finally:
        for child in children:
            child.terminate()
            child.wait(10)
    configured = settings.replace(stripe_api_key="sk_live_configured")
    assert start_demo_stripe(configured, 8765, []) == {}
