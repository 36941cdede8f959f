"""TicketQ drop rehearsal: fans, bots and venue staff against one drop.

Run by `ticketq simulate` (which seeds the drop and writes the plan), or by
hand, standalone or distributed (docs/loadtest.md):

    locust -f loadtest/locustfile.py --headless --tq-plan plan.json --host http://127.0.0.1:8000
    locust -f loadtest/locustfile.py --master --expect-workers 4 --tq-plan plan.json ...
    locust -f loadtest/locustfile.py --worker --master-host 10.0.0.5 --tq-plan plan.json

Every process reads the same plan file; the master collects every fan's and
bot's record and writes them to the plan's `records_path` when it quits.
"""

from __future__ import annotations

import random
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner

from loadtest import plan_state
from loadtest.bots import BotUser
from loadtest.fans import FanUser
from loadtest.http import bearer, call
from loadtest.records import RECORD_MESSAGE, STORE
from loadtest.shapes import DropShape


class VenueUser(FastHttpUser):
    """Venue staff watching the sales page during the drop."""

    fixed_count = 0  # set from the plan at init

    def on_start(self) -> None:
        self.plan = plan_state.plan()

    @task
    def watch_sales(self) -> None:
        call(
            self.client,
            "GET",
            f"/api/events/{self.plan.event_id}/sales",
            name="venue sales",
            headers=bearer(self.plan.venue_token),
        )
        gevent.sleep(random.uniform(1.0, 3.0))


def _add_arguments(parser: Any) -> None:
    parser.add_argument("--tq-plan", default="", help="TicketQ plan file (ticketq simulate)")
    parser.add_argument("--tq-sockets-per-source", type=int, default=0,
                        help="fans on a loopback host use one 127.0.0.x source address per "
                             "this many sockets (default: the plan's, 20,000)")


def _on_record(environment: Environment, msg: Any, **_: Any) -> None:
    STORE.add(msg.data)


def _on_init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    plan = plan_state.load(getattr(options, "tq_plan", "") if options else "")
    per_source = int(getattr(options, "tq_sockets_per_source", 0) or 0) if options else 0
    if per_source > 0:
        plan.sockets_per_source_address = per_source
    BotUser.fixed_count = plan.bots
    VenueUser.fixed_count = plan.venue_users
    # A class with fixed_count 0 would get a weighted share of users: leave it out instead.
    environment.user_classes[:] = [
        user_class
        for user_class in environment.user_classes
        if user_class is FanUser or user_class.fixed_count > 0
    ]
    if isinstance(environment.runner, MasterRunner | LocalRunner):
        environment.runner.register_message(RECORD_MESSAGE, _on_record)


def _on_quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, MasterRunner | LocalRunner):
        STORE.write(plan_state.plan().records_path)


events.init_command_line_parser.add_listener(_add_arguments)  # type: ignore[no-untyped-call]
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]

__all__ = ["BotUser", "DropShape", "FanUser", "VenueUser"]
