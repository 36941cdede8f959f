"""The waiting room as the gateway uses it: join (syncing and opening lazily), look a fan
up, and what a fan is shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.errors import Busy
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry, ScriptRunner
from queue_engine.drop_config import DropConfig, sync_config
from queue_engine.errors import DropNotSynced, NotInLine, OpenPending, VerifiedEmailRequired
from queue_engine.line import Place, Standing, heartbeat, join_line, open_line, read_fans
from queue_engine.positions import DropStatus, fan_state

ConfigLoader = Callable[[int], Awaitable[DropConfig]]
# Returns when the fan's account may join a verified-only drop; raises its refusal if not.
CheckVerified = Callable[[], Awaitable[None]]


async def join(
    redis: RedisClient, scripts: ScriptRegistry, load_config: ConfigLoader, drop_id: int,
    fan_id: int, *, now_ms: int, runner: ScriptRunner | None = None,
    check_verified: CheckVerified | None = None,
) -> Place:
    """Join the line. The first join of a drop asks `load_config(drop_id)` (the caller's
    Postgres read; NotFound for no such drop) and syncs it; every join is then refused from
    Redis alone if fans may not see the drop (NotVisible, a 404) or it is a lottery. The
    first join after opens_at runs the (exactly-once) shuffle. `runner` may be a
    ScriptBatcher: a herd of joins then shares round trips.

    A drop that takes only verified emails refuses the first try (VerifiedEmailRequired);
    then `check_verified()` (the caller's account read) raises its own refusal or returns,
    and the join runs again vouched for. Drops that do not need it cost nothing more."""
    verified = False
    for _ in range(4):
        try:
            return await join_line(runner or scripts, drop_id, fan_id, now_ms=now_ms,
                                   verified=verified)
        except VerifiedEmailRequired:
            if verified or check_verified is None:
                raise
            await check_verified()
            verified = True
        except DropNotSynced:
            await sync_config(redis, await load_config(drop_id))
        except OpenPending:
            await open_line(scripts, drop_id, now_ms=now_ms)
    raise Busy("the waiting room is starting up; try again in a moment", retry_after_s=1)


async def standing_of(
    scripts: ScriptRegistry, drop_id: int, fan_id: int, *, now_ms: int, mark_present: bool
) -> Standing:
    """Where one fan stands (NotInLine if nowhere); polling clients mark themselves present."""
    if mark_present:
        await heartbeat(scripts, drop_id, [fan_id], now_ms=now_ms)
    standing = (await read_fans(scripts, drop_id, [fan_id], now_ms=now_ms)).standings[0]
    if standing.state == "none":
        raise NotInLine("you are not in this drop's line; join it first")
    return standing


@dataclass(frozen=True)
class FanView:
    """What a fan is shown, over WebSocket or JSON."""

    state: str  # prequeue | waiting | admitted | expired | closed | sold_out
    position: int | None
    ahead: int | None
    estimated_wait_s: int | None
    paused: bool
    line_length: int
    tickets_in_carts: bool  # nothing left to buy right now, but carts may still expire
    pass_id: str | None
    pass_expires_ms: int | None

    def fields(self) -> dict[str, object]:
        return {"state": self.state, "position": self.position, "ahead": self.ahead,
                "estimated_wait_s": self.estimated_wait_s, "paused": self.paused,
                "line_length": self.line_length, "tickets_in_carts": self.tickets_in_carts}


def fan_view(status: DropStatus, standing: str, ahead: int | None, *, pass_id: str | None = None,
             pass_expires_ms: int | None = None) -> FanView | None:
    """None when the fan holds no place."""
    state = fan_state(status.phase, standing)
    if state is None:
        return None
    waiting = state == "waiting" and ahead is not None
    position = ahead + 1 if waiting and ahead is not None else None
    admitted = state == "admitted"
    return FanView(
        state=state, position=position, ahead=ahead if waiting else None,
        estimated_wait_s=status.estimated_wait_s(position) if waiting else None,
        paused=status.phase == "paused", line_length=status.line_length,
        tickets_in_carts=status.tickets_in_carts and state in {"prequeue", "waiting"},
        pass_id=pass_id if admitted else None,
        pass_expires_ms=pass_expires_ms if admitted else None,
    )
