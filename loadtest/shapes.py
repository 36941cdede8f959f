"""Arrival shapes: how the crowd turns up, as a Locust LoadTestShape.

- steady:   fans arrive at an even rate over the first 60 % of the run; the drop
            opens a few seconds after the run starts.
- spike:    nobody but bots and venue staff until the drop opens, then every fan
            within two seconds (the "tickets go live at 10:00" stampede).
- prequeue: the whole crowd gathers in the pre-queue before the drop opens
            (35 % into the run), is shuffled once at opening, and buys.

The run ends by itself when every fan has reached a final state and every bot
has finished, or when the duration (plus a grace for the last payments) is up.
"""

from __future__ import annotations

import time

from locust import LoadTestShape

from loadtest import plan_state
from loadtest.config import GRACE_S, opening_offset_s
from loadtest.records import STORE


class DropShape(LoadTestShape):
    """Reads the plan; user counts include the fixed bots and venue users."""

    grace_s = GRACE_S

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._started_wall: float | None = None

    def tick(self) -> tuple[int, float] | None:
        plan = plan_state.plan()
        if self._started_wall is None:
            self._started_wall = time.time()
        run_time: float = self.get_run_time()  # type: ignore[no-untyped-call]
        fixed = plan.bots + plan.venue_users
        total = fixed + plan.fans
        fans_done, bots_done = STORE.counts()
        if run_time > 5 and fans_done >= plan.fans and bots_done >= plan.bots:
            return None
        if run_time > plan.duration_s + self.grace_s:
            return None
        # Seconds until opens_at, measured from the plan so master and clock agree.
        until_open = plan.opens_at_ms / 1000 - time.time()
        if plan.shape == "spike":
            if until_open > 0:
                return fixed, max(1.0, float(fixed))
            return total, max(1.0, total / 2.0)
        if plan.shape == "prequeue":
            arrival_s = max(1.0, 0.8 * opening_offset_s(plan.shape, plan.duration_s))
            return total, max(1.0, total / arrival_s)
        arrival_s = max(1.0, 0.6 * plan.duration_s)
        return total, max(1.0, total / arrival_s)
