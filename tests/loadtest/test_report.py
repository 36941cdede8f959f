"""The report's judgement: each invariant fails when it should, from synthetic runs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from loadtest.config import Plan
from loadtest.ledger_check import reconcile
from loadtest.report import build
from loadtest.report_html import render_html, render_text

OPENS = 1_800_000_000_000


def plan() -> Plan:
    return Plan(
        base_url="http://127.0.0.1:1",
        drop_id=7,
        event_id=3,
        tier_ids={"GA": 1},
        per_fan_limit={"GA": 4},
        capacity={"GA": 2},
        opens_at_ms=OPENS,
        closes_at_ms=OPENS + 60_000,
        admit_per_minute=60,
        max_active=10,
        session_seconds=60,
        fans=3,
        bots=1,
        venue_users=1,
        duration_s=30,
        shape="steady",
        abandon=0.1,
        cart_abandon=0.0,
        login_share=0.0,
        signup_share=0.0,
        password="x",
        think_min_s=0,
        think_max_s=0,
    )


def fan(number: int, state: str, joined: int, admitted: int | None) -> dict[str, Any]:
    return {
        "key": f"fan:{number}",
        "kind": "fan",
        "fan": number,
        "final": True,
        "state": state,
        "phase": "fifo",
        "joined_ms": OPENS + joined,
        "join_latency_ms": 10.0 + number,
        "admitted_ms": None if admitted is None else OPENS + admitted,
        "admitted_seen_ms": None if admitted is None else OPENS + admitted + 50,
        "final_ms": OPENS + 5000,
        "errors": [],
    }


def good_run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = [
        fan(1, "ticketed", 0, 1000),
        fan(2, "ticketed", 100, 1500),
        fan(3, "sold_out", 200, None),
        {
            "key": "bot:9",
            "kind": "bot",
            "bot": 9,
            "final": True,
            "attempts": [{"attack": "forged_pass", "status": 401, "success": False, "note": ""}],
        },
    ]
    book = {
        "tiers": [
            {
                "tier_id": 1,
                "name": "GA",
                "capacity": 2,
                "sold": 2,
                "tickets_valid": 2,
                "tickets_refunded": 0,
                "tickets_total": 2,
            }
        ],
        "issued": [("GA", OPENS + 2000.0), ("GA", OPENS + 3000.0)],
        "orders": {
            "o1": {"state": "paid", "reason": None, "valid_tickets": 1},
            "o2": {"state": "paid", "reason": None, "valid_tickets": 1},
        },
        "payments": {
            "pi_1": {"status": "succeeded", "amount": 10, "refunded": 0, "order": "o1"},
            "pi_2": {"status": "succeeded", "amount": 10, "refunded": 0, "order": "o2"},
        },
    }
    return records, book


def judge(
    records: list[dict[str, Any]],
    book: dict[str, Any],
    intents: list[dict[str, Any]] | None = None,
    csv_prefix: Path = Path("/nonexistent/locust"),
) -> dict[str, Any]:
    payments = reconcile(book, intents)
    return build(plan(), records, book, payments, csv_prefix, {}, join_order={1: 1, 2: 2, 3: 3})


def test_a_clean_run_passes_and_renders() -> None:
    records, book = good_run()
    report = judge(
        records,
        book,
        [{"id": "pi_1", "status": "succeeded"}, {"id": "pi_2", "status": "succeeded"}],
    )
    assert report["invariants"] == {
        "no_oversell": True,
        "payments_reconcile": True,
        "zero_bot_successes": True,
        "every_fan_final": True,
        "no_internal_errors": True,
        "all_ok": True,
    }
    assert report["sell_out"]["sold_out"] is True
    assert report["sell_out"]["seconds_after_open"] == 3.0
    assert report["fairness"]["gamma"] == 1.0 and report["fairness"]["discordant_pairs"] == 0
    assert report["join_latency_ms"]["count"] == 3
    assert "PASS  no_oversell" in render_text(report)
    assert render_html(report).count("<svg") == 3


def test_oversell_fails() -> None:
    records, book = good_run()
    book["tiers"][0]["tickets_valid"] = 3
    assert judge(records, book)["invariants"]["no_oversell"] is False


@pytest.mark.parametrize("breakage", ["paid_not_ticketed", "ticketed_not_paid", "lost_intent"])
def test_unreconciled_payments_fail(breakage: str) -> None:
    records, book = good_run()
    intents = [{"id": "pi_1", "status": "succeeded"}, {"id": "pi_2", "status": "succeeded"}]
    if breakage == "paid_not_ticketed":
        book["orders"]["o2"] = {"state": "pending", "reason": None, "valid_tickets": 0}
    elif breakage == "ticketed_not_paid":
        book["orders"]["o3"] = {"state": "paid", "reason": None, "valid_tickets": 1}
    else:  # the provider took money that Postgres never recorded
        intents.append({"id": "pi_3", "status": "succeeded"})
    report = judge(records, copy.deepcopy(book), intents)
    assert report["invariants"]["payments_reconcile"] is False


def test_refunded_payment_reconciles() -> None:
    records, book = good_run()
    book["orders"]["o2"] = {"state": "refunded", "reason": "hold expired", "valid_tickets": 0}
    book["payments"]["pi_2"]["status"] = "refunded"
    payments = judge(records, book)["payments"]
    assert (payments["succeeded"], payments["ticketed"], payments["refunded"]) == (2, 1, 1)
    assert payments["ok"] is True


def test_a_bot_success_fails() -> None:
    records, book = good_run()
    records[3]["attempts"].append(
        {"attack": "shared_pass", "status": 201, "success": True, "note": ""}
    )
    report = judge(records, book)
    assert report["invariants"]["zero_bot_successes"] is False
    assert report["bots"]["by_attack"]["shared_pass"]["successes"] == 1


@pytest.mark.parametrize("breakage", ["unfinished", "missing"])
def test_a_fan_left_hanging_fails(breakage: str) -> None:
    records, book = good_run()
    if breakage == "unfinished":
        records[2]["state"] = "unfinished:waiting"
    else:
        del records[2]
    assert judge(records, book)["invariants"]["every_fan_final"] is False


def test_fifo_breach_shows_as_discordant() -> None:
    records, book = good_run()
    records[0]["admitted_ms"] = OPENS + 2000  # joined first, admitted after fan 2
    fairness = judge(records, book)["fairness"]
    assert fairness["discordant_pairs"] == 1 and fairness["gamma"] == -1.0


def test_an_internal_server_error_fails_and_errors_are_grouped(tmp_path: Path) -> None:
    records, book = good_run()
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences\n"
        "POST,join,\"CatchResponseError('HTTP 503: busy, retry in 3 s')\",4\n"
        "POST,join,\"CatchResponseError('HTTP 503: busy, retry in 5 s')\",2\n"
    )
    report = judge(records, book, csv_prefix=tmp_path / "locust")
    assert report["invariants"]["no_internal_errors"] is True
    assert list(report["errors"].values()) == [6]
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences\nPOST,hold,\"CatchResponseError('HTTP 500: ')\",1\n"
    )
    report = judge(records, book, csv_prefix=tmp_path / "locust")
    assert report["invariants"]["no_internal_errors"] is False
    assert report["internal_errors"] == 1


def test_emails_that_disagree_with_the_ledger_fail_the_report() -> None:
    from loadtest.email_check import check

    records, book = good_run()
    payments = reconcile(book, None)
    facts = {"paid_orders": 2, "refunded_orders": 0, "lottery_entries_entered": 0,
             "lottery_entries_settled": 0}
    one_missing = check({"order_confirmation": {"rows": 1, "sent": 0, "unsent": 1}}, facts,
                        smtp_configured=False)
    report = build(plan(), records, book, payments, Path("/nonexistent/locust"), {},
                   join_order={1: 1, 2: 2, 3: 3}, emails=one_missing)
    assert report["invariants"]["emails_match_ledger"] is False
    assert report["invariants"]["all_ok"] is False
    page = render_html(report)
    assert "FAIL emails_match_ledger" in page and "<h2>Emails</h2>" in page
    assert "order_confirmation 1/2" in render_text(report)
    both = check({"order_confirmation": {"rows": 2, "sent": 2, "unsent": 0}}, facts,
                 smtp_configured=True)
    passed = build(plan(), records, book, payments, Path("/nonexistent/locust"), {},
                   join_order={1: 1, 2: 2, 3: 3}, emails=both)
    assert passed["invariants"]["emails_match_ledger"] is True


def test_every_join_attempt_and_the_challenge_wait_are_reported_beside_the_last_join() -> None:
    records, book = good_run()
    stampede, accepted = records[0], records[1]
    stampede.update(join_status=201, join_attempts_ms=[900.0, 12.0], challenge_ms=4000.0)
    accepted.update(join_status=201, join_attempts_ms=[15.0])
    records[2].update(join_status=409)  # refused: no place, so not an accepted join
    joins = judge(records, book)["joins"]
    assert joins["every_attempt_ms"]["count"] == 3 and joins["every_attempt_ms"]["max"] == 900.0
    assert joins["challenge_wait_ms"]["count"] == 1
    assert joins["accepted_after_open_s"]["count"] == 2
    assert joins["accepted_after_open_s"]["max"] == 0.1  # fan 2 joined 100 ms after opening
    text = render_text(judge(records, book))
    assert "join every attempt ms" in text and "challenge wait ms" in text
