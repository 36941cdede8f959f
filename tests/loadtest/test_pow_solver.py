"""The fans' proof-of-work off the load generator's loop: real child processes solve
real challenges, which the gateway's own check accepts."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import gevent
import pytest

from loadtest.pow_solver import LOWEST_PRIORITY, SolverPool, serve, solved_payload
from queue_engine import challenges

KEYS = challenges.challenge_keys("pow-solver-test-secret-key-0123456789")
DIFFICULTY = 20_000  # some milliseconds a solve, so a blocked loop would show


def _challenge(fan_id: int) -> dict:
    return challenges.issue(KEYS, drop_id=7, fan_id=fan_id, difficulty=DIFFICULTY,
                            now_ms=int(time.time() * 1000), ttl_s=300)


def _accepted(payload: str | None, fan_id: int) -> bool:
    solved = challenges.verify(KEYS, payload or "", drop_id=7, fan_id=fan_id,
                               now_ms=int(time.time() * 1000))
    return solved.challenge_id != ""


def test_a_solved_payload_passes_the_gateways_check():
    assert _accepted(solved_payload(_challenge(1)), fan_id=1)


def test_the_child_loop_answers_a_line_per_challenge_until_its_input_closes():
    lines_in = io.StringIO("\n".join(json.dumps(_challenge(n)) for n in (1, 2)) + "\n")
    lines_out = io.StringIO()
    serve(lines_in, lines_out)
    answers = lines_out.getvalue().splitlines()
    assert len(answers) == 2 and _accepted(answers[1], fan_id=2)


def test_greenlets_keep_running_while_children_solve():
    pool = SolverPool(processes=2)
    pool.solve(_challenge(0))  # the first child starts (interpreter start-up, not timed)
    solving = True
    ticks_while_solving = 0

    def tick() -> None:
        nonlocal ticks_while_solving
        while solving:
            ticks_while_solving += 1
            gevent.sleep(0.001)

    ticker = gevent.spawn(tick)
    solvers = [gevent.spawn(pool.solve, _challenge(n)) for n in range(1, 9)]
    gevent.joinall(solvers, raise_error=True)
    solving = False
    ticker.join()
    assert all(_accepted(solver.value, fan_id=n) for n, solver in enumerate(solvers, 1))
    # Solved on this loop, no other greenlet could run until the last solve returned.
    assert ticks_while_solving > 8
    assert pool._started == 2


def test_the_children_run_at_the_lowest_priority_in_a_session_of_their_own():
    pool = SolverPool(processes=1)
    pool.solve(_challenge(0))
    child = pool._idle.peek()
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == LOWEST_PRIORITY
    assert os.getsid(child.pid) == child.pid != os.getsid(0)
    autogroup = Path(f"/proc/{child.pid}/autogroup")
    if autogroup.exists():  # Linux with autogroups: the group's nice is what weighs
        assert autogroup.read_text().split()[-1] == str(LOWEST_PRIORITY)


def test_a_child_that_died_is_replaced_on_the_next_solve():
    pool = SolverPool(processes=1)
    pool.solve(_challenge(0))
    first = pool._idle.peek()
    first.kill()
    first.wait()
    with pytest.raises((OSError, ValueError)):
        pool.solve(_challenge(1))
    assert _accepted(pool.solve(_challenge(2)), fan_id=2)
    assert pool._idle.peek().pid != first.pid
