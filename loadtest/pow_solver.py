"""The fans' proof-of-work, solved in child processes at the lowest CPU priority.

On a real drop every fan's device solves its own join challenge. In a rehearsal one
box plays every device, and altcha's solver is pure Python: about 8 ms of CPU a
challenge at the default difficulty. Solved on Locust's gevent loop, each solve froze
every other fan of that Locust process for those milliseconds, so a join the gateway
answered at once was timed at seconds (a 1,000-fan spike measured join p50 0.9 s and
p99 2.8 s, with 78 % of Locust's CPU in the solver, docs/performance.md). Here the
solving runs in `SOLVER_PROCESSES` children per Locust process at the lowest priority
(`lower_own_priority`): the loop keeps reading answers as they come, and the devices'
work takes only CPU the servers under test leave idle. How long a fan waited for its
solution is its `challenge_ms`.

    python -m loadtest.pow_solver   # the child: one challenge (altcha JSON) a line in,
                                    # one payload (base64, or "" if unsolved) a line out
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

import altcha
import gevent.queue
import gevent.subprocess

SOLVER_PROCESSES = 2  # per Locust process: the box's cores, for whatever they leave idle
SOLVE_TIMEOUT_S = 30.0  # altcha's own bound on one solve
LOWEST_PRIORITY = 19


def solved_payload(challenge: dict[str, Any]) -> str | None:
    """The payload to send as the join's `challenge` (None if no counter solves it)."""
    challenge_object = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(challenge_object, timeout=SOLVE_TIMEOUT_S)
    return None if solution is None else altcha.Payload(challenge_object, solution).to_base64()


class SolverPool:
    """Child solvers shared by the greenlets of one process; a greenlet waiting for one
    (or for its answer) lets the others run. Started on first use; the children end
    when this process does (their standard input closes)."""

    def __init__(self, processes: int = SOLVER_PROCESSES) -> None:
        self.processes = processes
        self._idle: gevent.queue.Queue[gevent.subprocess.Popen[bytes]] = gevent.queue.Queue()
        self._started = 0

    def solve(self, challenge: dict[str, Any]) -> str | None:
        if self._started < self.processes and self._idle.empty():
            self._started += 1
            self._idle.put(_start_child())
        child = self._idle.get()
        try:
            answer = _ask(child, challenge)
        except (OSError, ValueError):
            self._started -= 1  # that child is gone: the next solve starts another
            child.kill()
            raise
        self._idle.put(child)
        return answer or None


def _start_child() -> gevent.subprocess.Popen[bytes]:
    # A session of its own: see lower_own_priority.
    return gevent.subprocess.Popen([sys.executable, "-m", "loadtest.pow_solver"],
                                   stdin=gevent.subprocess.PIPE,
                                   stdout=gevent.subprocess.PIPE, start_new_session=True)


def _ask(child: gevent.subprocess.Popen[bytes], challenge: dict[str, Any]) -> str:
    stdin, stdout = child.stdin, child.stdout
    assert stdin is not None and stdout is not None  # both are pipes (_start_child)
    stdin.write(json.dumps(challenge).encode() + b"\n")
    stdin.flush()
    line: bytes = stdout.readline()
    if not line:
        raise ValueError(f"the solver process ended (exit {child.poll()})")
    return line.decode().strip()


def serve(lines_in: IO[str], lines_out: IO[str]) -> None:
    """The child's loop: solve each challenge line until standard input closes."""
    for line in lines_in:
        lines_out.write((solved_payload(json.loads(line)) or "") + "\n")
        lines_out.flush()


def lower_own_priority() -> None:
    """Nice 19, for this process and for its session's autogroup. Linux with autogroups
    (sched_autogroup_enabled, the default on desktops and this box) shares the CPU
    between sessions first and by nice value only inside each: the rehearsal starts
    every server in a session of its own (core/supervisor.py), so a solver merely niced
    in Locust's session still took an equal share from the gateway (measured: solvers
    at nice 19 on 0.6-1.1 cores while the gateway's loop lagged). Its own session at
    autogroup nice 19 yields to every other session."""
    os.nice(LOWEST_PRIORITY)
    try:
        Path("/proc/self/autogroup").write_text(str(LOWEST_PRIORITY))
    except OSError:  # no autogroups here (another kernel, or off): the nice value serves
        pass


if __name__ == "__main__":
    lower_own_priority()
    serve(sys.stdin, sys.stdout)
