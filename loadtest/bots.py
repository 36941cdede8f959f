"""Bots: accounts that try to cheat the drop. Every success is a bug; the report wants 0.

Each attempt is recorded as {attack, status, success, note}. "Success" means the
cheat got something it must not get: a second place in line, a hold without a
valid pass of its own, more tickets than the per-fan limit, or tickets from a
webhook that Stripe did not send (or sent once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import secrets
import time
import zlib
from typing import Any

import gevent
from gevent.pool import Group
from locust import FastHttpUser, task

from loadtest import plan_state
from loadtest.farm import farm_address, farm_client, run_farm
from loadtest.http import Body, bearer, call, needs_challenge, solved_challenge
from loadtest.records import RECORD_MESSAGE

_BOT_NUMBERS = itertools.count()
REFUSED = (400, 401, 403, 404, 409, 410, 413, 415, 422, 423, 429)


def stripe_signature(secret: str, payload: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def rebind_pass(admission_pass: str, fan_id: int) -> str:
    """The same token with its payload's fan id replaced (signature left as it was)."""
    compressed = admission_pass.startswith(".")
    body = admission_pass[1:] if compressed else admission_pass
    segment, _, rest = body.partition(".")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        payload = json.loads(zlib.decompress(raw) if compressed else raw)
        payload["f"] = fan_id
    except (ValueError, TypeError, zlib.error):
        return admission_pass + "x"
    encoded = json.dumps(payload, separators=(",", ":")).encode()
    segment = base64.urlsafe_b64encode(encoded).decode().rstrip("=")
    return f"{segment}.{rest}"


class BotUser(FastHttpUser):
    weight = 1
    fixed_count = 0  # set from the plan at init
    concurrency = 8

    def on_start(self) -> None:
        self.plan = plan_state.plan()
        runner = self.environment.runner
        worker_index = max(0, int(getattr(runner, "worker_index", 0) or 0))
        number = worker_index + next(_BOT_NUMBERS) * max(1, self.plan.stride)
        # Bots come in pairs of accounts: the cheater and a partner to share passes with.
        accounts = self.plan.bot_accounts
        # Seeding made 2 x bots x stride accounts: enough for any share-out of bots.
        self.bot = accounts[(2 * number) % len(accounts)]
        self.partner = accounts[(2 * number + 1) % len(accounts)]
        self.rng = random.Random(secrets.randbits(64))
        self.record: dict[str, Any] = {
            "key": f"bot:{self.bot.id}",
            "kind": "bot",
            "bot": self.bot.id,
            "attempts": [],
            "final": False,
        }
        self.sent = False
        self.farmer = number == 0  # one account farm per rehearsal

    def on_stop(self) -> None:
        if not self.sent:
            self.sent = True
            self.environment.runner.send_message(RECORD_MESSAGE, self.record)

    def _attempt(self, attack: str, status: int, success: bool, note: str = "") -> None:
        self.record["attempts"].append(
            {"attack": attack, "status": status, "success": success, "note": note[:160]}
        )

    @task
    def cheat(self) -> None:
        try:
            self._cheat()
        except Exception as exc:
            self.record["error"] = repr(exc)[:200]
        self.record["final"] = True
        self.on_stop()
        while True:
            gevent.sleep(3600)

    def _cheat(self) -> None:
        queue_path = f"/api/drops/{self.plan.drop_id}/queue"
        holds_path = f"/api/drops/{self.plan.drop_id}/holds"
        me = bearer(self.bot.token)
        if self.farmer:
            self._account_farm()
        # 0. skip the drop's proof-of-work: join with none, a forged one, another's.
        solution = self._challenge_attacks(queue_path, me)
        # 1. several joins at once from one account (one solved challenge sent by all):
        # exactly one place.
        burst_body = {"challenge": solution} if solution else None
        results: list[tuple[int, Body]] = []
        group = Group()
        for _ in range(5):
            group.spawn(
                lambda: results.append(
                    call(
                        self.client,
                        "POST",
                        queue_path,
                        name="bot: join burst",
                        expected=REFUSED,
                        headers=me,
                        json_body=burst_body,
                    )
                )
            )
        group.join()
        if solution:
            # 1b. the spent solution again: refused as a replay, never a second place.
            status, _ = call(self.client, "POST", queue_path, name="bot: replayed_challenge",
                             expected=REFUSED, headers=me, json_body=burst_body)
            self._attempt("replayed_challenge", status, status == 201)
        created = sum(1 for status, _ in results if status == 201)
        tickets = {body.get("queue_ticket") for _, body in results if body.get("queue_ticket")}
        self._attempt(
            "multi_join", 201 if created == 1 else 200, created > 1, f"{created} x 201 of 5"
        )
        ticket = next(iter(tickets), "")
        # 2. buy without a pass, with junk, and with the queue ticket posing as a pass.
        item = [{"tier_id": next(iter(self.plan.tier_ids.values())), "quantity": 1}]
        for attack, headers in (
            ("hold_without_pass", me),
            ("forged_pass", {**me, "X-Admission-Pass": secrets.token_urlsafe(48)}),
            ("queue_ticket_as_pass", {**me, "X-Admission-Pass": str(ticket)}),
        ):
            status, _ = call(
                self.client,
                "POST",
                holds_path,
                name=f"bot: {attack}",
                expected=REFUSED,
                headers=headers,
                json_body={"items": item},
            )
            self._attempt(attack, status, 200 <= status < 300)
        # 3. wait for a real pass, then share it, tamper with it, exceed the limit.
        admission_pass = self._wait_for_pass(queue_path, me)
        if admission_pass is None:
            self._attempt("pass_attacks", 0, False, "skipped: never admitted")
            return
        self._pass_attacks(holds_path, admission_pass)
        self._limit_and_webhooks(holds_path, me, admission_pass)

    def _account_farm(self) -> None:
        """Many fresh accounts from one non-exempt address (loadtest/farm.py)."""
        address = farm_address()
        with farm_client(self.plan.base_url, address) as client:
            outcome = run_farm(client, self.plan.drop_id, address)
        status = 429 if any(key.endswith(" 429") for key in outcome.statuses) else 201
        self._attempt("account_farm", status, outcome.success(), outcome.note())

    def _challenge_attacks(self, queue_path: str, me: dict[str, str]) -> str | None:
        """Joins that skip the proof-of-work; a success is any new place (201). Returns this
        bot's own solved challenge for the burst (None when the drop asks none)."""
        status, body = call(self.client, "POST", queue_path, name="bot: no_challenge",
                            expected=REFUSED, headers=me)
        self._attempt("no_challenge", status, status == 201)
        if not needs_challenge(status, body):
            return None  # the drop asks no challenge: that bot joined, the burst finds it
        partner = bearer(self.partner.token)
        solution = solved_challenge(self.client, self.plan.drop_id, me, name="bot: challenge")
        if solution is None:
            return None
        decoded = json.loads(base64.b64decode(solution))
        decoded["solution"]["derivedKey"] = secrets.token_hex(32)  # a guess, not the work
        forged = base64.b64encode(json.dumps(decoded).encode()).decode()
        for attack, headers, sent in (("forged_challenge", me, forged),
                                      ("junk_challenge", me, secrets.token_urlsafe(200)),
                                      ("borrowed_challenge", partner, solution)):
            status, _ = call(self.client, "POST", queue_path, name=f"bot: {attack}",
                             expected=REFUSED, headers=headers, json_body={"challenge": sent})
            self._attempt(attack, status, status == 201)
        return solution

    def _wait_for_pass(self, queue_path: str, me: dict[str, str]) -> str | None:
        deadline = time.monotonic() + self.plan.duration_s
        while time.monotonic() < deadline:
            _, body = call(
                self.client, "GET", queue_path, name="bot: queue poll", expected=REFUSED, headers=me
            )
            if body.get("state") == "admitted" and isinstance(body.get("pass"), str):
                return str(body["pass"])
            if body.get("state") in ("closed", "sold_out", "expired"):
                return None
            gevent.sleep(1.0)
        return None

    def _pass_attacks(self, holds_path: str, admission_pass: str) -> None:
        item = [{"tier_id": next(iter(self.plan.tier_ids.values())), "quantity": 1}]
        partner = {**bearer(self.partner.token), "X-Admission-Pass": admission_pass}
        status, _ = call(
            self.client,
            "POST",
            holds_path,
            name="bot: shared_pass",
            expected=REFUSED,
            headers=partner,
            json_body={"items": item},
        )
        self._attempt("shared_pass", status, 200 <= status < 300)
        # A forged copy: one character of the signature changed. (Not the last one: its
        # low bits are base64 padding, and a decoder may read it as the same signature.)
        index = len(admission_pass) - 5
        flipped = admission_pass[:index] + ("A" if admission_pass[index] != "A" else "B")
        flipped += admission_pass[index + 1 :]
        # The partner rewrites the pass to name itself, keeping the genuine signature.
        renamed = rebind_pass(admission_pass, self.partner.id)
        for attack, token, pass_value in (
            ("tampered_pass", self.bot.token, flipped),
            ("pass_renamed_to_partner", self.partner.token, renamed),
        ):
            status, _ = call(
                self.client,
                "POST",
                holds_path,
                name=f"bot: {attack}",
                expected=REFUSED,
                json_body={"items": item},
                headers={**bearer(token), "X-Admission-Pass": pass_value},
            )
            self._attempt(attack, status, 200 <= status < 300)

    def _limit_and_webhooks(self, holds_path: str, me: dict[str, str], admission_pass: str) -> None:
        name, tier_id = next(iter(self.plan.tier_ids.items()))
        limit = self.plan.per_fan_limit[name]
        headers = {**me, "X-Admission-Pass": admission_pass}
        status, _ = call(
            self.client,
            "POST",
            holds_path,
            name="bot: over_limit",
            expected=REFUSED,
            headers=headers,
            json_body={"items": [{"tier_id": tier_id, "quantity": limit + 1}]},
        )
        self._attempt("over_limit_single", status, 200 <= status < 300)
        status, hold = call(
            self.client,
            "POST",
            holds_path,
            name="bot: hold",
            expected=REFUSED,
            headers=headers,
            json_body={"items": [{"tier_id": tier_id, "quantity": 1}]},
        )
        if status != 201:
            self._attempt("webhook_attacks", status, False, "skipped: no stock for a hold")
            return
        status, _ = call(
            self.client,
            "POST",
            holds_path,
            name="bot: over_limit",
            expected=REFUSED,
            headers=headers,
            json_body={"items": [{"tier_id": tier_id, "quantity": limit}]},
        )
        self._attempt("over_limit_across_holds", status, 200 <= status < 300)
        status, paid = call(
            self.client,
            "POST",
            f"/api/holds/{hold['hold_id']}/checkout",
            name="bot: checkout",
            expected=REFUSED,
            headers=me,
            json_body={"payment_method": "pm_card_visa"},
        )
        order_id = str(paid.get("order_id", ""))
        intent_id = str(paid.get("client_secret", "")).split("_secret_")[0]
        if not order_id or not intent_id.startswith("pi_"):
            self._attempt("webhook_attacks", status, False, "skipped: checkout refused")
            return
        before = self._settled_tickets(order_id, me)
        self._webhook_attacks(intent_id, order_id, paid)
        after = self._settled_tickets(order_id, me)
        self._attempt("webhook_effect", after, after > before, f"tickets {before} -> {after}")

    def _settled_tickets(self, order_id: str, me: dict[str, str]) -> int:
        for _ in range(60):
            _, body = call(
                self.client,
                "GET",
                f"/api/orders/{order_id}",
                name="bot: order",
                expected=REFUSED,
                headers=me,
            )
            if body.get("state") in ("paid", "refunded", "failed", "expired"):
                tickets = body.get("tickets")
                return (
                    len(tickets) if isinstance(tickets, list) else int(body.get("state") == "paid")
                )
            gevent.sleep(0.5)
        return 0

    def _webhook_attacks(self, intent_id: str, order_id: str, paid: Body) -> None:
        event = {
            "id": f"evt_bot_{secrets.token_hex(8)}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "status": "succeeded",
                    "amount": paid.get("amount", 0),
                    "metadata": {"order": order_id},
                }
            },
        }
        payload = json.dumps(event).encode()
        now = int(time.time())
        attempts = [
            ("webhook_unsigned", {}),
            (
                "webhook_bad_signature",
                {"Stripe-Signature": stripe_signature("whsec_guess", payload, now)},
            ),
        ]
        secret = self.plan.webhook_secret
        if secret:
            stale = now - 3600
            attempts.append(
                ("webhook_stale", {"Stripe-Signature": stripe_signature(secret, payload, stale)})
            )
            # A captured genuine delivery replayed three times: must count once at most.
            for copy in range(3):
                signature = stripe_signature(secret, payload, now)
                attempts.append((f"webhook_replay_{copy}", {"Stripe-Signature": signature}))
        for attack, headers in attempts:
            status, _ = call(
                self.client,
                "POST",
                "/webhooks/stripe",
                name=f"bot: {attack[:16]}",
                expected=REFUSED,
                data=payload,
                headers={"Content-Type": "application/json", **headers},
            )
            # Replays may be acknowledged (2xx, deduplicated); their effect is judged after.
            success = 200 <= status < 300 and not attack.startswith("webhook_replay")
            self._attempt(attack, status, success)
