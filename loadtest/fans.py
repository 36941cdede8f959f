"""The fan: signs in, joins, watches its place live, is admitted, holds, pays, fetches tickets.

One Locust user is one fan, and it lives its story once. When the story ends
(in any state of `loadtest.config.FINAL_STATES`) the user idles, so the Locust
user count stays the number of fans who arrived. Each fan sends one record
(loadtest.records) that the report reads: join time and latency, the server's
admission moment (from the pass), the final state and why.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import FastHttpUser, task
from locust.exception import StopUser

from loadtest import plan_state
from loadtest.http import (
    Body,
    bearer,
    bind_source_address,
    call,
    needs_challenge,
    solved_challenge,
)
from loadtest.records import RECORD_MESSAGE, now_ms, pass_admitted_ms
from loadtest.source_addresses import source_for
from loadtest.ws import QueueSocket, SocketClosed

_FAN_NUMBERS = itertools.count()
TERMINAL_QUEUE_STATES = {
    "closed": "closed",
    "cancelled": "closed",
    "ended": "closed",
    "sold_out": "sold_out",
    "expired": "pass_expired",
}
# Statuses a client retries: unreachable (0), rate limited, busy, bad gateway, timeout.
RETRY_STATUSES = (0, 429, 502, 503, 504)
RETRIES = 5
ORDER_FINAL = {"paid": "ticketed", "refunded": "refunded", "failed": "payment_failed"}


class FanUser(FastHttpUser):
    weight = 100
    concurrency = 2
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.plan = plan_state.plan()
        self.rng = random.Random(secrets.randbits(64))
        runner = self.environment.runner
        worker_index = max(0, int(getattr(runner, "worker_index", 0) or 0))
        number = worker_index + next(_FAN_NUMBERS) * max(1, self.plan.stride)
        account = self.plan.accounts[number] if number < len(self.plan.accounts) else None
        self.record: dict[str, Any] = {
            "key": f"fan:{account.id if account else 'new-' + secrets.token_hex(6)}",
            "kind": "fan",
            "fan": account.id if account else None,
            "final": False,
            "state": "arrived",
            "arrived_ms": now_ms(),
            "errors": [],
        }
        self.account = account
        self.token = account.token if account else ""
        self.user_id: int | None = None  # known after a sign-in in this run
        self.sent = False
        self.gateway_index = number
        # Past ~28k sockets one loopback address runs out of ports: this fan's address,
        # by its number, for its HTTP connections and its socket alike.
        self.fan_number = number
        bind_source_address(self.client, number, self.plan.source_addresses())
        self._use_gateway()
        self.record["source_address"] = source_for(  # None: the kernel's choice
            urlsplit(self._base_url()).hostname or "", number, self.plan.source_addresses())

    def _use_gateway(self) -> None:
        """DNS round robin (plan.gateway_urls): this fan's HTTP and sockets go to one
        gateway, the next one after a failure. Otherwise everything goes to the plan's URL."""
        urls = self.plan.gateway_urls
        if urls:
            self.client.base_url = urls[self.gateway_index % len(urls)]

    def _base_url(self) -> str:
        urls = self.plan.gateway_urls
        return urls[self.gateway_index % len(urls)] if urls else self.plan.base_url

    def _shop(self, path: str) -> str:
        """Where a shop request goes: the plan's shop gateway when it has one (a full URL;
        Locust keeps a connection pool per host), else the fan's own gateway."""
        return self.plan.shop_url + path if self.plan.shop_url else path

    def _note_socket(self, socket: QueueSocket) -> None:
        """Which gateway each of this fan's sockets reached, and the position it last had
        before: the cluster shape's report checks a fan kept its place across gateways."""
        urls = self.plan.gateway_urls
        name = socket.gateway or (f"gateway-{self.gateway_index % len(urls)}" if urls else "")
        self.record.setdefault("ws_gateways", []).append(name)
        self.record.setdefault("ws_positions_at_connect", []).append(
            self.record.get("last_position")
        )

    def on_stop(self) -> None:
        if not self.sent:
            self.record["state"] = "unfinished:" + str(self.record.get("state"))
            self._send()

    def _send(self) -> None:
        self.sent = True
        self.environment.runner.send_message(RECORD_MESSAGE, self.record)

    def _finish(self, state: str, reason: str = "") -> None:
        self.record.update(state=state, final=True, final_ms=now_ms())
        if reason:
            self.record["reason"] = reason[:200]
        self._send()

    def _error(self, kind: str) -> None:
        self.record["errors"].append(kind)

    def _think(self) -> None:
        gevent.sleep(self.rng.uniform(self.plan.think_min_s, self.plan.think_max_s))

    @task
    def story(self) -> None:
        try:
            self._live()
        except StopUser:
            raise
        except Exception as exc:
            # A crash in the script is a finding about the script, not the server:
            # keep it visible in the record instead of losing the fan.
            self._error(f"client:{type(exc).__name__}")
            self.record["state"] = f"crashed:{self.record.get('state')}"
            self.record["reason"] = repr(exc)[:200]
        if not self.sent:
            self._send()
        while True:  # the story is told; stay as an idle user until the run ends
            gevent.sleep(3600)

    # --- the story ---------------------------------------------------------
    def _live(self) -> None:
        if not self._sign_in():
            return
        queue = self._join()
        if queue is None:
            return
        admission_pass = self._wait_for_turn(queue)
        if admission_pass is None:
            return
        self._buy(admission_pass)

    def _sign_in(self) -> bool:
        roll = self.rng.random()
        if self.account is None or roll < self.plan.signup_share:
            email = f"sim-{secrets.token_hex(8)}@loadtest.invalid"
            status, _ = call(
                self.client,
                "POST",
                "/api/auth/signup",
                name="signup",
                json_body={"email": email, "password": self.plan.password, "name": "Sim Fan"},
            )
            # 202 whether or not the email was new (no enumeration); the id comes at sign-in.
            if status not in {201, 202}:
                self._finish("refused", f"signup {status}")
                return False
            self.record["signed_up"] = True
            if not self._login(email):
                return False
            fan_id = self.user_id
            self.record.update(fan=fan_id, key=f"fan:{fan_id}")
            return True
        if roll < self.plan.signup_share + self.plan.login_share:
            return self._login(self.account.email)
        return True

    def _login(self, email: str) -> bool:
        status, body = call(
            self.client,
            "POST",
            "/api/auth/login",
            name="login",
            json_body={"email": email, "password": self.plan.password},
        )
        if status != 200 or not isinstance(body.get("token"), str):
            self._finish("refused", f"login {status}")
            return False
        self.token = body["token"]
        user = body.get("user")
        self.user_id = user.get("id") if isinstance(user, dict) else None
        self.record["logged_in"] = True
        return True

    def _join(self) -> Body | None:
        path = f"/api/drops/{self.plan.drop_id}/queue"
        challenge: str | None = None
        for attempt in range(RETRIES + 1):
            started = now_ms()
            began = time.perf_counter()
            status, body = call(
                self.client,
                "POST",
                path,
                name="join",
                expected=(403, 409, 410, 422, 423),
                headers=bearer(self.token),
                json_body={"challenge": challenge} if challenge else None,
            )
            latency = (time.perf_counter() - began) * 1000
            self.record.setdefault("join_attempts_ms", []).append(round(latency, 2))
            if needs_challenge(status, body) and challenge is None:
                # The drop's proof-of-work, solved as the browser does (docs/loadtest.md).
                solve_began = time.perf_counter()
                challenge = solved_challenge(self.client, self.plan.drop_id, bearer(self.token))
                self.record["challenge_ms"] = round((time.perf_counter() - solve_began) * 1000, 1)
                if challenge is not None:
                    continue
            challenge = None  # used (or refused): a retry starts afresh
            if status not in RETRY_STATUSES or attempt == RETRIES:
                break
            # A real client retries a busy or unreachable server, after a pause.
            self.record["join_retries"] = attempt + 1
            gevent.sleep(min(10.0, float(body.get("retry_after_s") or 2**attempt)))
        self.record.update(
            join_latency_ms=round(latency, 2),
            joined_ms=started + int(latency / 2),
            join_status=status,
            join_state=body.get("state"),
            join_position=body.get("position"),
        )
        if status not in (200, 201):
            state = body.get("state") or body.get("reason") or ""
            final = TERMINAL_QUEUE_STATES.get(str(state), "refused")
            self._finish(final, f"join {status}: {body.get('detail', '')}")
            return None
        self.record["phase"] = "prequeue" if body.get("state") == "prequeue" else "fifo"
        self.record["state"] = str(body.get("state"))
        return body

    def _wait_for_turn(self, joined: Body) -> str | None:
        """Watch the socket until admitted (returns the pass) or a final state."""
        abandon_at = None
        if self.rng.random() < self.plan.abandon:
            abandon_at = time.monotonic() + self.rng.uniform(
                1.0, max(2.0, self.plan.duration_s / 3)
            )
        if joined.get("state") == "admitted" and isinstance(joined.get("pass"), str):
            return self._admitted(joined)
        # The fan's own bearer token on the upgrade; never a credential in the URL.
        path = f"/ws/drops/{self.plan.drop_id}/queue"
        reconnects = 0
        while True:
            base_url = self._base_url()
            url = "ws" + base_url.removeprefix("http") + path
            source = source_for(urlsplit(base_url).hostname or "", self.fan_number,
                                self.plan.source_addresses())
            try:
                socket = QueueSocket(self.environment, url, bearer_token=self.token,
                                     source_address=source)
            except Exception as exc:
                self._error(f"ws_connect:{type(exc).__name__}")
                self.gateway_index += 1  # DNS round robin: try the next address
                self._use_gateway()
                reconnects += 1
                if reconnects > 5:
                    return self._poll_for_turn(joined, abandon_at)
                gevent.sleep(min(5.0, 0.5 * 2**reconnects))
                continue
            self._note_socket(socket)
            try:
                outcome = self._watch(socket, abandon_at)
            except SocketClosed as closed:
                self._error(f"ws_closed:{closed.code}")
                if closed.code is None:  # the gateway went away: the next address
                    self.gateway_index += 1
                    self._use_gateway()
                reconnects += 1
                outcome = None
                if reconnects > 5:
                    return self._poll_for_turn(joined, abandon_at)
                gevent.sleep(min(5.0, 0.5 * 2**reconnects))
            finally:
                self.record["ws_messages"] = self.record.get("ws_messages", 0) + socket.messages
                socket.close()
            if outcome is not None:
                return outcome or None

    def _watch(self, socket: QueueSocket, abandon_at: float | None) -> str | None:
        """'' for a final state reached, the pass once admitted; raises SocketClosed."""
        while True:
            timeout = 5.0 if abandon_at is None else max(0.05, abandon_at - time.monotonic())
            message = socket.receive(timeout, session_seconds=self.plan.session_seconds)
            if message is None:
                if abandon_at is not None and time.monotonic() >= abandon_at:
                    self._finish("abandoned_queue")
                    return ""
                continue
            result = self._on_queue_state(message)
            if result is not None:
                return result

    def _on_queue_state(self, message: Body) -> str | None:
        state = str(message.get("state"))
        self.record["state"] = state
        if "position" in message:
            position = message.get("position")
            previous = self.record.get("last_position")
            # A place in line only ever moves forward, whichever gateway tells it.
            # (Pre-queue fans are shuffled at opening, so only FIFO fans are held to it.)
            rises = isinstance(position, int) and isinstance(previous, int) and position > previous
            if rises and self.record.get("phase") == "fifo":
                self.record["position_rose"] = self.record.get("position_rose", 0) + 1
            self.record["last_position"] = position
        if state == "admitted" and isinstance(message.get("pass"), str):
            return self._admitted(message)
        if state in TERMINAL_QUEUE_STATES:
            self._finish(TERMINAL_QUEUE_STATES[state])
            return ""
        return None

    def _poll_for_turn(self, joined: Body, abandon_at: float | None) -> str | None:
        """The JSON polling fallback, for when the socket keeps failing."""
        self.record["polled"] = True
        path = f"/api/drops/{self.plan.drop_id}/queue"
        while True:
            if abandon_at is not None and time.monotonic() >= abandon_at:
                self._finish("abandoned_queue")
                return None
            status, body = call(
                self.client, "GET", path, name="queue poll", headers=bearer(self.token)
            )
            if status == 200:
                result = self._on_queue_state(body)
                if result is not None:
                    return result or None
            gevent.sleep(1.0)

    def _admitted(self, message: Body) -> str:
        admission_pass = str(message["pass"])
        self.record.update(
            state="admitted",
            admitted_seen_ms=now_ms(),
            admitted_ms=pass_admitted_ms(admission_pass, self.plan.session_seconds),
        )
        return admission_pass

    def _buy(self, admission_pass: str) -> None:
        self._think()
        hold = self._hold(admission_pass)
        if hold is None:
            return
        if self.rng.random() < self.plan.cart_abandon:
            self._finish("abandoned_cart")
            return
        self._think()
        status, body = call(
            self.client,
            "POST",
            self._shop(f"/api/holds/{hold['hold_id']}/checkout"),
            name="checkout",
            expected=(402, 409, 410),
            headers=bearer(self.token),
            json_body={"payment_method": "pm_card_visa"},
        )
        if status not in (200, 201, 202):
            self._finish("payment_failed", f"checkout {status}: {body.get('detail', '')}")
            return
        order_id = str(body.get("order_id"))
        self.record.update(order_id=order_id, checkout_status=body.get("status"))
        self._settle(order_id)

    def _hold(self, admission_pass: str) -> Body | None:
        tiers = sorted(self.plan.tier_ids, key=lambda n: self.rng.random() * self.plan.capacity[n])
        tiers.reverse()  # mostly the big tier first, like real demand
        headers = {**bearer(self.token), "X-Admission-Pass": admission_pass}
        last, detail = 0, ""
        for name in tiers:
            quantity = self.rng.randint(1, min(2, self.plan.per_fan_limit[name]))
            item = {"tier_id": self.plan.tier_ids[name], "quantity": quantity}
            for attempt in range(RETRIES + 1):
                status, body = call(
                    self.client,
                    "POST",
                    self._shop(f"/api/drops/{self.plan.drop_id}/holds"),
                    name="hold",
                    expected=(403, 409, 410),
                    headers=headers,
                    json_body={"items": [item]},
                )
                if status not in RETRY_STATUSES or attempt == RETRIES:
                    break
                gevent.sleep(min(5.0, 0.5 * 2**attempt))
            if status == 201:
                self.record.update(tier=name, quantity=quantity, hold_id=body.get("hold_id"))
                return body
            last, detail = status, str(body.get("detail", ""))
            if status in (403, 410):
                self._finish("pass_expired", f"hold {status}: {detail}")
                return None
            if status != 409:  # not "none left in this tier": no point trying another
                break
        self._finish("sold_out" if last == 409 else "refused", f"hold {last}: {detail}")
        return None

    def _settle(self, order_id: str) -> None:
        """Poll the order (this also settles it server-side) until it is final."""
        deadline = time.monotonic() + 60
        state = "pending"
        while time.monotonic() < deadline:
            _, body = call(
                self.client,
                "GET",
                self._shop(f"/api/orders/{order_id}"),
                name="order",
                headers=bearer(self.token),
            )
            state = str(body.get("state") or body.get("status") or "")
            if state in ORDER_FINAL:
                break
            gevent.sleep(0.5)
        self.record["order_state"] = state
        _, body = call(
            self.client, "GET", self._shop("/api/me/orders"), name="my orders",
            headers=bearer(self.token),
        )
        orders = body.get("orders") or body.get("items") or []
        mine = [o for o in orders if isinstance(o, dict) and str(o.get("id")) == order_id]
        tickets = mine[0].get("tickets", []) if mine else []
        self.record["tickets_seen"] = len(tickets) if isinstance(tickets, list) else 0
        self._finish(ORDER_FINAL.get(state, f"unsettled:{state}"))
