"""Bot guards in front of the join script: a solved proof-of-work challenge, and at most
N new places per drop per source address and per network (docs/security.md, "Joining
a drop").

Join is the hot path (issue 15), so the guards stay small:
- a join that carries a solution: the replay record (SET NX) goes out beside the
  per-address hit (one pipeline, the batcher's), then the per-network hit (one more
  round trip, and only while both limits apply: an all-or-nothing two-key script
  would make it one);
- a join without one (a reconnect, a reload): one read of the fan's standing; a fan who
  already holds a place re-joins with no challenge and no hit; anyone else is refused
  (challenge on) or counted (challenge off, limits on).
Drops without a challenge whose client is exempt, or whose limits are off, pay nothing.
A drop for verified emails only vouches for the fan (`vouch`, the caller's account read)
before a challenge is spent or a place counted: an unverified fan's 403 costs them neither.
Each drop's guards come from its Redis meta (synced from Postgres with the rest of its
config) at most once per FRESH_S per process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from accounts.limits import Client
from core.errors import Busy, RateLimited
from core.rate_limits import hit
from core.redis_client import RedisClient
from core.redis_keys import DropKeys, RateKey
from core.script_batching import ScriptBatcher
from core.settings import Settings
from queue_engine import challenges
from queue_engine.drop_config import DropConfig, JoinGuards, read_guards, sync_config
from queue_engine.errors import ChallengeRequired
from queue_engine.line import read_fans

FRESH_S = 5.0  # an operator's change of a drop's guards applies within this
JOIN_WINDOW_S = 3600
HOLDING = frozenset({"prequeue", "waiting", "admitted"})
TOO_MANY_JOINS = "too many new places in this line from your network; wait and try again"
ConfigLoader = Callable[[int], Awaitable[DropConfig]]


class GuardConfigs:
    """Each drop's guards as this process last read them from the drop's Redis meta, for
    at most FRESH_S seconds; a drop not synced yet is loaded (`load`, from Postgres) and
    synced first, as a join would. A cold herd shares one read (one task per drop)."""

    def __init__(self, redis: RedisClient, load: ConfigLoader,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis, self._load, self._clock = redis, load, clock
        self._cached: dict[int, tuple[float, asyncio.Task[JoinGuards]]] = {}

    async def get(self, drop_id: int) -> JoinGuards:
        now = self._clock()
        cached = self._cached.get(drop_id)
        if cached is not None and now - cached[0] < FRESH_S and cached[1].done() and (
                cached[1].exception() is None):
            # The herd's case: no shield (a new future and two callbacks per join) needed
            # for a read that is already done.
            return cached[1].result()
        if cached is None or now - cached[0] >= FRESH_S or (
                cached[1].done() and cached[1].exception() is not None):
            if len(self._cached) > 10_000:  # a scan of made-up ids must not grow it forever
                self._cached.clear()
            cached = (now, asyncio.ensure_future(self._read(drop_id)))
            self._cached[drop_id] = cached
        # shield: one caller's cancelled request must not cancel the others' shared read
        return await asyncio.shield(cached[1])

    async def _read(self, drop_id: int) -> JoinGuards:
        guards = await read_guards(self._redis, drop_id)
        if guards is None:
            await sync_config(self._redis, await self._load(drop_id))
            guards = await read_guards(self._redis, drop_id)
        if guards is None:  # deleted between the two: as good as no drop
            raise Busy("the waiting room is starting up; try again in a moment")
        return guards


@dataclass(frozen=True)
class JoinLimits:
    per_ip: int  # 0: no limit
    per_network: int

    @classmethod
    def of(cls, config: JoinGuards, settings: Settings, client: Client) -> JoinLimits:
        per_ip = config.join_limit_per_ip
        per_network = config.join_limit_per_network
        limits = cls(settings.join_per_ip_per_drop if per_ip is None else per_ip,
                     settings.join_per_network_per_drop if per_network is None else per_network)
        # The address is parsed only when a limit could apply to it.
        return OFF if not limits.on or client.exempt(settings) else limits

    @property
    def on(self) -> bool:
        return self.per_ip > 0 or self.per_network > 0


OFF = JoinLimits(0, 0)


@dataclass(frozen=True)
class JoinAttempt:
    drop_id: int
    fan_id: int
    client: Client
    challenge: str | None  # the altcha payload the join carried
    now_ms: int


async def _hit_limits(batcher: ScriptBatcher, limits: JoinLimits, attempt: JoinAttempt) -> None:
    """The address first, then its network: a refused hit counts nothing, so an address
    hammering at its own limit never uses up its neighbours' quota."""
    home, client = DropKeys(attempt.drop_id).tag, attempt.client
    if limits.per_ip > 0:
        await _check(batcher, RateKey("join-ip", client.subject(), home), limits.per_ip,
                     attempt.now_ms)
    if limits.per_network > 0:
        await _check(batcher, RateKey("join-net", client.network(), home), limits.per_network,
                     attempt.now_ms)


async def _check(batcher: ScriptBatcher, key: RateKey, limit: int, now_ms: int) -> None:
    decision = await hit(batcher, key, limit=limit, window_s=JOIN_WINDOW_S, now_ms=now_ms)
    if not decision.allowed:
        raise RateLimited(TOO_MANY_JOINS, retry_after_s=decision.retry_after_s)


async def _holds_place(batcher: ScriptBatcher, attempt: JoinAttempt) -> bool:
    readout = await read_fans(batcher, attempt.drop_id, [attempt.fan_id], now_ms=attempt.now_ms)
    return readout.standings[0].state in HOLDING


async def _vouch_if_needed(config: JoinGuards,
                           vouch: Callable[[], Awaitable[None]] | None) -> None:
    if config.verified_only and vouch is not None:
        await vouch()


async def guard_join(config: JoinGuards, settings: Settings, redis: RedisClient,
                     batcher: ScriptBatcher, attempt: JoinAttempt,
                     vouch: Callable[[], Awaitable[None]] | None = None) -> None:
    """Refuse (a DomainError) a join the guards do not let through; return otherwise."""
    limits = JoinLimits.of(config, settings, attempt.client)
    wants_challenge = config.challenge_difficulty > 0
    if not wants_challenge and not limits.on:
        return
    spending: list[Awaitable[None]] = []
    if wants_challenge and attempt.challenge is not None:
        # Verified (CPU only) before anything is counted: a forgery costs us no write.
        solved = challenges.verify(challenges.challenge_keys(settings.secret_key),
                                   attempt.challenge, drop_id=attempt.drop_id,
                                   fan_id=attempt.fan_id, now_ms=attempt.now_ms)
        await _vouch_if_needed(config, vouch)
        spending.append(challenges.spend(redis, attempt.drop_id, solved, now_ms=attempt.now_ms,
                                         batcher=batcher))
    elif await _holds_place(batcher, attempt):
        return  # a reconnect keeps its place: no challenge, no count
    elif wants_challenge:
        raise ChallengeRequired("solve this drop's challenge (GET /api/drops/{id}/challenge) "
                                "and send it as `challenge` to join")
    else:
        await _vouch_if_needed(config, vouch)
    # The replay record beside the address's hit (one round trip), then the network's.
    results = await asyncio.gather(*spending, _hit_limits(batcher, limits, attempt),
                                   return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
