"""The per-process position broadcaster: one Redis read per drop per tick serves every
WebSocket of that drop on this gateway process.

Each socket keeps a baseline (its sequence number and `ahead`, read once with the
counters it is relative to); each tick one `read_positions` snapshot brings the new
admissions count and the departures since the last tick, from which every socket's
`ahead` follows (queue_engine.positions). Fans whose state may have changed
otherwise (just admitted, pre-queue opened, pass ended) are re-read in one batch.
Sockets also carry the fans' heartbeats, batched per drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from core.clock import to_ms
from core.scripts import ScriptRegistry
from gateway import queue_metrics as metrics
from gateway.queue_messages import fan_json, message_text, pass_fields
from queue_engine.credentials import CredentialSigner
from queue_engine.line import Standing, heartbeat, read_fans
from queue_engine.positions import DropStatus, ahead_now, read_status
from queue_engine.waiting_room import fan_view

log = logging.getLogger("ticketq.queue.hub")

KEEPALIVE_S = 2.0  # the issue: a message at least every 2 s while waiting
# A busy drop moves every position every tick. Sockets hear of it at most this often
# (the front of the line sooner, see FRONT); a change of state, such as being
# admitted, is sent at once and before any position update.
NEAR_FRONT_UPDATE_S = 1.0
FRONT = 1000
# Between two ticks, each followed drop's counters are read this often (one small read):
# when they moved (an admission, a departure, a change of phase) the tick runs at once,
# so an admitted fan hears within ~this long rather than up to a whole tick later.
CHANGE_POLL_S = 0.05
ADMITTED_RECHECK_S = 5.0  # admitted fans are re-read this often (pass used or revoked)
FORGET_AFTER_S = 120.0  # a drop with no sockets is followed this long after its last join
READ_CHUNK = 500  # fans per read_fans / heartbeat call
MAX_DEPARTURES_PER_TICK = 20_000


@dataclass(eq=False, slots=True)  # one per socket: keep it small
class Subscriber:
    websocket: WebSocket
    fan_id: int
    standing: str = "none"
    seq: int = 0
    ahead: int | None = None
    admitted_seen: int = 0
    departed_seen: int = 0
    pass_id: str | None = None
    pass_expires_ms: int | None = None
    pass_fields: dict[str, Any] = field(default_factory=dict)
    stale: bool = False
    changed: bool = True  # standing re-read since the last send: send without waiting
    last_read: float = 0.0
    last_heartbeat: float = 0.0
    last_sent: float = 0.0
    last_text: str | None = None  # the last message as sent, to skip repeats

    def rebase(self, standing: Standing, admitted_total: int, departed_total: int) -> None:
        self.standing, self.seq, self.ahead = standing.state, standing.seq, standing.ahead
        self.pass_id, self.pass_expires_ms = standing.pass_id, standing.pass_expires_ms
        self.admitted_seen, self.departed_seen = admitted_total, departed_total
        self.pass_fields, self.stale, self.last_read = {}, False, time.monotonic()
        self.changed = True

    def update_every(self) -> float:
        near = self.ahead is not None and self.ahead < FRONT
        return NEAR_FRONT_UPDATE_S if near else KEEPALIVE_S


@dataclass(eq=False)
class DropFeed:
    drop_id: int
    subscribers: set[Subscriber] = field(default_factory=set)
    status: DropStatus | None = None
    log_start: int | None = None  # index of departures[0] in the drop's departure log
    departures: list[int] = field(default_factory=list)
    touched: float = field(default_factory=time.monotonic)
    phase: str = ""
    sender: asyncio.Task[None] | None = None
    ticked: float = 0.0  # when the last full tick ran

    def moved(self, status: DropStatus) -> bool:
        """Whether `status` says something the sockets must hear before the next tick."""
        # Not the whole meta hash: joins (next_seq) and every admission tick (tokens) write
        # to it, and a join storm must not turn every poll into a tick.
        last = self.status
        return (last is None or bool(status.departures) or status.phase != self.phase
                or status.admitted_total != last.admitted_total)

    @property
    def cursor(self) -> int:
        return (self.log_start or 0) + len(self.departures)


class QueueHub:
    def __init__(self, scripts: ScriptRegistry, signer: CredentialSigner,
                 clock: Callable[[], datetime], *, interval_s: float, heartbeat_s: float) -> None:
        self.scripts, self.signer, self.clock = scripts, signer, clock
        self.interval_s, self.heartbeat_s = interval_s, heartbeat_s
        self.feeds: dict[int, DropFeed] = {}
        # Shutdown does not rely on cancellation alone: a library that swallows one
        # CancelledError mid-tick would otherwise keep this loop (and shutdown) alive.
        self.stopping = asyncio.Event()

    def _feed(self, drop_id: int) -> DropFeed:
        feed = self.feeds.get(drop_id)
        if feed is None:
            feed = self.feeds[drop_id] = DropFeed(drop_id)
        feed.touched = time.monotonic()
        return feed

    async def status(self, drop_id: int, now_ms: int) -> DropStatus:
        """The drop's latest snapshot if it is fresh (joins need no read of their own)."""
        feed = self._feed(drop_id)
        if feed.status is None or now_ms - feed.status.read_at_ms > 2000 * self.interval_s:
            feed.status = await read_status(self.scripts, drop_id, now_ms=now_ms)
        return feed.status

    def subscribe(self, drop_id: int, subscriber: Subscriber) -> None:
        feed = self._feed(drop_id)
        if feed.log_start is None:
            feed.log_start = subscriber.departed_seen
        feed.subscribers.add(subscriber)
        metrics.WEBSOCKETS.labels(str(drop_id)).set(len(feed.subscribers))

    def unsubscribe(self, drop_id: int, subscriber: Subscriber) -> None:
        feed = self.feeds.get(drop_id)
        if feed is not None:
            feed.subscribers.discard(subscriber)
            metrics.WEBSOCKETS.labels(str(drop_id)).set(len(feed.subscribers))

    def message(self, drop_id: int, status: DropStatus, sub: Subscriber, now_ms: int
                ) -> dict[str, Any] | None:
        view = fan_view(status, sub.standing, sub.ahead, pass_id=sub.pass_id,
                        pass_expires_ms=sub.pass_expires_ms)
        if view is None:
            return None
        if view.pass_id and not sub.pass_fields:
            sub.pass_fields = pass_fields(self.signer, view, drop_id=drop_id, fan_id=sub.fan_id)
        return fan_json(view, now_ms=now_ms, passes=sub.pass_fields)

    async def reread(self, drop_id: int, subs: list[Subscriber], now_ms: int) -> None:
        for start in range(0, len(subs), READ_CHUNK):
            chunk = subs[start:start + READ_CHUNK]
            readout = await read_fans(self.scripts, drop_id, [s.fan_id for s in chunk],
                                      now_ms=now_ms)
            for sub, standing in zip(chunk, readout.standings, strict=True):
                sub.rebase(standing, readout.admitted_total, readout.departed_total)

    # --- one tick ------------------------------------------------------------
    def _advance(self, feed: DropFeed, status: DropStatus, now: float) -> list[Subscriber]:
        """Move every waiting socket's `ahead` forward; return sockets to re-read."""
        start = feed.log_start or 0
        slices: dict[int, list[int]] = {}
        reread = []
        admitted_total, cursor = status.admitted_total, feed.cursor
        for sub in feed.subscribers:
            if sub.stale or (sub.standing == "prequeue" and status.opened):
                reread.append(sub)
            elif (sub.standing == "waiting" and sub.admitted_seen >= admitted_total
                  and sub.departed_seen >= cursor):
                continue  # nobody ahead moved since this socket's last look: cheap at 100k
            elif sub.standing == "waiting" and sub.ahead is not None:
                if sub.departed_seen < start:
                    reread.append(sub)
                    continue
                if sub.departed_seen not in slices:
                    slices[sub.departed_seen] = sorted(feed.departures[sub.departed_seen - start:])
                sub.ahead = ahead_now(sub.ahead, sub.seq,
                                      max(0, status.admitted_total - sub.admitted_seen),
                                      slices[sub.departed_seen])
                sub.admitted_seen = max(sub.admitted_seen, status.admitted_total)
                sub.departed_seen = max(sub.departed_seen, feed.cursor)
                if sub.ahead < 0:
                    reread.append(sub)  # admitted: fetch the pass
            elif sub.standing == "admitted" and now - sub.last_read >= ADMITTED_RECHECK_S:
                reread.append(sub)
        return reread

    async def _heartbeats(self, feed: DropFeed, now: float, now_ms: int) -> None:
        due = [s for s in feed.subscribers if s.standing in {"waiting", "prequeue"}
               and now - s.last_heartbeat >= self.heartbeat_s]
        for start in range(0, len(due), READ_CHUNK):
            chunk = due[start:start + READ_CHUNK]
            flags = await heartbeat(self.scripts, feed.drop_id, [s.fan_id for s in chunk],
                                    now_ms=now_ms)
            for sub, present in zip(chunk, flags, strict=True):
                sub.last_heartbeat = now
                sub.stale = sub.stale or not present

    async def _deliver(self, feed: DropFeed, sub: Subscriber, now: float, now_ms: int) -> None:
        """Build the socket's message from the latest snapshot and send it if it says
        something new (or the keep-alive is due)."""
        status = feed.status
        if status is None:
            return
        message = self.message(feed.drop_id, status, sub, now_ms)
        if message is None:
            await close_quietly(sub.websocket, 4404, "you are no longer in this line")
            feed.subscribers.discard(sub)
            return
        sub.changed = False
        text = message_text(message)
        if text == sub.last_text and now - sub.last_sent < KEEPALIVE_S:
            return
        try:
            await sub.websocket.send_text(text)
        except Exception:  # the socket went away mid-send; its handler cleans up
            feed.subscribers.discard(sub)
            return
        sub.last_text, sub.last_sent = text, now

    async def _send_urgent(self, feed: DropFeed, status: DropStatus, now: float,
                           now_ms: int) -> None:
        """State changes go out within the tick: an admitted fan must not wait behind
        thousands of position updates."""
        everyone = status.phase != feed.phase
        feed.phase = status.phase
        for sub in [s for s in feed.subscribers if s.changed or everyone]:
            await self._deliver(feed, sub, now, now_ms)

    async def _send_due(self, feed: DropFeed) -> None:
        """Position updates and keep-alives, in the background: a slow pass over many
        sockets never delays the next tick's reads and urgent sends."""
        now = time.monotonic()
        due = [s for s in feed.subscribers if now - s.last_sent >= s.update_every()]
        for sub in due:
            if sub.changed or sub not in feed.subscribers:
                continue  # the next tick's urgent pass has it
            await self._deliver(feed, sub, time.monotonic(), to_ms(self.clock()))

    async def tick_drop(self, feed: DropFeed, *, full: bool = True) -> bool:
        """One tick of a drop; `full=False` reads its counters and ticks only if they moved.
        False when it only read them."""
        now, now_ms = time.monotonic(), to_ms(self.clock())
        if not full and not feed.subscribers:
            return False  # nobody to tell: the counters can wait for the tick
        if not feed.subscribers or feed.log_start is None:
            # Nobody to move forward: just the counters, and the log restarts here.
            status = await read_status(self.scripts, feed.drop_id, now_ms=now_ms)
            feed.status, feed.log_start = status, status.departed_total
            feed.departures.clear()
            self._export(feed, status)
            if not feed.subscribers:
                return True
        status = await read_status(self.scripts, feed.drop_id, now_ms=now_ms,
                                   departures_from=feed.cursor,
                                   max_departures=MAX_DEPARTURES_PER_TICK)
        if not full and not feed.moved(status):
            return False
        feed.ticked = now
        feed.departures.extend(status.departures)
        feed.status = status
        self._export(feed, status)
        await self._heartbeats(feed, now, now_ms)
        reread = self._advance(feed, status, now)
        if reread:
            await self.reread(feed.drop_id, reread, now_ms)
        await self._send_urgent(feed, status, now, now_ms)
        if feed.sender is None or feed.sender.done():
            feed.sender = asyncio.create_task(self._send_due(feed))
        # Departures every socket has applied are no longer needed.
        oldest = min((s.departed_seen for s in feed.subscribers), default=feed.cursor)
        drop_count = max(0, min(oldest, feed.cursor) - (feed.log_start or 0))
        if drop_count:
            del feed.departures[:drop_count]
            feed.log_start = (feed.log_start or 0) + drop_count
        return True

    def _export(self, feed: DropFeed, status: DropStatus) -> None:
        label = str(feed.drop_id)
        metrics.QUEUE_LENGTH.labels(label).set(status.line_length)
        metrics.PREQUEUE_SIZE.labels(label).set(status.prequeue_size)
        metrics.ACTIVE_PASSES.labels(label).set(status.live_passes)
        metrics.ADMITTED_PER_MINUTE.labels(label).set(status.admission_rate_per_minute() or 0)
        metrics.ADMIT_PER_MINUTE_TARGET.labels(label).set(status.admit_per_minute)
        metrics.WEBSOCKETS.labels(label).set(len(feed.subscribers))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        poll_s = min(self.interval_s, CHANGE_POLL_S)
        while not self.stopping.is_set():
            started = loop.time()
            for drop_id, feed in list(self.feeds.items()):
                if not feed.subscribers and time.monotonic() - feed.touched > FORGET_AFTER_S:
                    if feed.sender is not None:
                        feed.sender.cancel()
                    del self.feeds[drop_id]
                    metrics.forget_drop(drop_id)
                    continue
                full = time.monotonic() - feed.ticked >= self.interval_s
                tick_started = time.perf_counter()
                try:
                    if await self.tick_drop(feed, full=full):  # polls are not ticks
                        metrics.BROADCAST_SECONDS.observe(time.perf_counter() - tick_started)
                except Exception:
                    log.exception("broadcast tick of drop %s failed", drop_id)
            pause = max(0.0, poll_s - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=pause)


MAX_CLOSE_REASON_BYTES = 123  # RFC 6455: a longer reason fails the close frame itself


async def close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    clipped = reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=clipped)


@contextlib.asynccontextmanager
async def running_hub(hub: QueueHub) -> AsyncIterator[QueueHub]:
    task = asyncio.create_task(hub.run(), name="queue-hub")
    try:
        yield hub
    finally:
        hub.stopping.set()
        senders = [feed.sender for feed in hub.feeds.values() if feed.sender is not None]
        for running in (task, *senders):
            running.cancel()
        # Bounded: whatever a task does with its cancellation, shutdown completes.
        _, stuck = await asyncio.wait({task, *senders}, timeout=5)
        for running in stuck:
            log.warning("queue hub task %s did not stop within 5 s", running.get_name())
