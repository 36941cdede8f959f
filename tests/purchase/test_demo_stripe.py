"""`make demo` pays offline: a localstripe process whose signed webhooks target the gateway."""

from __future__ import annotations

import httpx

from core.settings import Settings
from core.supervisor import Supervisor
from purchase.demo_stripe import DEMO_API_KEY, DEMO_WEBHOOK_SECRET, start_demo_stripe


def test_start_demo_stripe_runs_a_localstripe_for_the_gateway(settings: Settings, tmp_path) -> None:
    demo = settings.replace(home=tmp_path, stripe_api_key=None)
    with Supervisor(tmp_path / "logs") as supervisor:
        env = start_demo_stripe(demo, 8765, supervisor)
        assert env["STRIPE_API_KEY"] == DEMO_API_KEY
        assert env["STRIPE_WEBHOOK_SECRET"] == DEMO_WEBHOOK_SECRET
        answer = httpx.post(f"{env['STRIPE_API_BASE']}/v1/payment_intents",
                            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
                            data={"amount": "100", "currency": "eur",
                                  "payment_method": "pm_card_visa"})
        assert answer.status_code == 200, answer.text
        assert [child.name for child in supervisor.children] == ["localstripe"]
        assert supervisor.all_running()
    assert (tmp_path / "logs" / "localstripe.log").exists()
    configured = settings.replace(stripe_api_key="sk_live_configured")
    with Supervisor(tmp_path / "logs") as nothing_started:
        assert start_demo_stripe(configured, 8765, nothing_started) == {}
        assert nothing_started.children == []
