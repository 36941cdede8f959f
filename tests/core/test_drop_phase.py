"""The drop phase has one rule: `phase_at` in Python, lua/includes/drop_phase.lua in the
scripts. Both run over the same table here, so they cannot drift apart."""

from __future__ import annotations

import pytest

from core.drop_phase import DropPhase, Sellout, phase_at, read_sellout
from core.scripts import splice_includes

PRE, OPENS, CLOSES = 1_000, 2_000, 9_000
# (state, sellout, opened, now) -> phase
CASES = [
    ("scheduled", Sellout.AVAILABLE, False, 500, DropPhase.SCHEDULED),
    ("scheduled", Sellout.AVAILABLE, False, 1_500, DropPhase.PREQUEUE),
    ("paused", Sellout.AVAILABLE, False, 1_500, DropPhase.PREQUEUE),
    ("scheduled", Sellout.AVAILABLE, True, 2_500, DropPhase.OPEN),
    ("paused", Sellout.AVAILABLE, True, 2_500, DropPhase.PAUSED),
    ("scheduled", Sellout.HELD, True, 2_500, DropPhase.OPEN),  # carts may still expire
    ("scheduled", Sellout.SOLD, True, 2_500, DropPhase.SOLD_OUT),
    ("scheduled", Sellout.SOLD, False, 500, DropPhase.SOLD_OUT),
    ("sold_out", Sellout.AVAILABLE, True, 2_500, DropPhase.SOLD_OUT),
    ("scheduled", Sellout.SOLD, True, CLOSES, DropPhase.CLOSED),  # the clock ends it first
    ("closed", Sellout.AVAILABLE, True, 2_500, DropPhase.CLOSED),
    ("cancelled", Sellout.SOLD, True, CLOSES, DropPhase.CANCELLED),
]
LUA_PHASE = splice_includes("""-- @include drop_phase
return dropPhase(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1',
  tonumber(ARGV[6]))
""")
LUA_SELLOUT = splice_includes("-- @include sold_out\nreturn readSellout(ARGV[1])\n")


@pytest.mark.parametrize(("state", "sellout", "opened", "now", "phase"), CASES)
def test_python_rule(state: str, sellout: Sellout, opened: bool, now: int,
                     phase: DropPhase) -> None:
    assert phase_at(state=state, prequeue_opens_at_ms=PRE, opens_at_ms=OPENS,
                    closes_at_ms=CLOSES, now_ms=now, sellout=sellout, opened=opened) == phase


def test_without_the_shuffle_flag_the_clock_says_when_the_line_opens() -> None:
    times = {"prequeue_opens_at_ms": PRE, "opens_at_ms": OPENS, "closes_at_ms": CLOSES}
    assert phase_at(state="scheduled", now_ms=OPENS - 1, **times) == DropPhase.PREQUEUE
    assert phase_at(state="scheduled", now_ms=OPENS, **times) == DropPhase.OPEN


async def test_lua_rule_agrees_with_python(redis) -> None:
    # A test may EVAL; TicketQ code runs scripts only through the registry.
    for state, sellout, opened, now, phase in CASES:
        answer = await redis.eval(LUA_PHASE, 0, state, sellout.value, PRE, CLOSES,
                                  "1" if opened else "0", now)
        assert answer.decode() == phase.value, (state, sellout, opened, now)


@pytest.mark.parametrize(("stored", "parsed"), [
    (None, Sellout.AVAILABLE), ("", Sellout.AVAILABLE), ("held", Sellout.HELD),
    ("1", Sellout.SOLD), ("garbage", Sellout.SOLD),
])
async def test_sellout_is_read_the_same_in_lua_and_python(redis, stored, parsed) -> None:
    assert read_sellout(stored) == parsed
    assert read_sellout(stored.encode() if stored else stored) == parsed
    answer = await redis.eval(LUA_SELLOUT, 0, stored or "")
    assert (answer or b"").decode() == parsed.value
