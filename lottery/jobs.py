"""`lottery_settler`: the worker job that seals, draws and settles lotteries when due.

Safe to run in any number of worker processes at once: sealing and drawing lock
the lottery row, settlement claims entries with SKIP LOCKED and leases. A
worker killed at any point leaves claims that lapse after
TICKETQ_LOTTERY_CLAIM_SECONDS; the next pass, here or elsewhere, resumes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lottery.entries import sweep_abandoned
from lottery.lifecycle import advance, due_lotteries
from lottery.payments import HeldPayments
from lottery.settlement import SettleOptions, finish_if_settled, settle_batch
from payments.stripe_client import from_settings
from ticketq.worker import WorkerContext

log = logging.getLogger("ticketq.lottery")

TICK_SECONDS = 1.0
# Batches settled per lottery per pass, so one huge lottery cannot starve the others.
BATCHES_PER_PASS = 50
# Drops already reported as drawn-but-unsettleable, so the log says it once, not every second.
_warned_unsettleable: set[int] = set()


async def settle_lottery(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments, drop_id: int,
    options: SettleOptions, clock: Callable[[], datetime], *, max_batches: int = BATCHES_PER_PASS,
) -> bool:
    """Settle claimable entries of a drawn lottery; True once it is fully settled."""
    for _ in range(max_batches):
        if not await settle_batch(sessionmaker, payments, drop_id, options, clock()):
            break
    async with sessionmaker() as session:
        return await finish_if_settled(session, drop_id, clock())


async def settler_pass(
    sessionmaker: async_sessionmaker[AsyncSession], payments: HeldPayments | None,
    options: SettleOptions, clock: Callable[[], datetime],
) -> None:
    """One pass over every lottery with work due."""
    async with sessionmaker() as session:
        due = await due_lotteries(session, clock())
    for drop_id, state in due:
        if state in {"open", "sealed"}:
            outcome = await advance(sessionmaker, drop_id, clock())
            if outcome["sealed"] or outcome["drawn"]:
                log.info("lottery %s: %s", drop_id, outcome)
            if not outcome["drawn"]:
                continue
        if payments is None:
            if drop_id not in _warned_unsettleable:
                _warned_unsettleable.add(drop_id)
                log.warning("lottery %s is drawn but STRIPE_API_KEY is unset: cannot settle",
                            drop_id)
            continue
        if await settle_lottery(sessionmaker, payments, drop_id, options, clock):
            log.info("lottery %s: settled", drop_id)
    await sweep_abandoned(sessionmaker, payments, now=clock())


def payments_from(ctx: WorkerContext) -> HeldPayments | None:
    client = from_settings(ctx.settings)
    return HeldPayments(client) if client is not None else None


async def lottery_settler(ctx: WorkerContext) -> None:
    payments = payments_from(ctx)
    options = SettleOptions(worker_id=ctx.worker_id,
                            concurrency=ctx.settings.lottery_settle_concurrency,
                            lease=timedelta(seconds=ctx.settings.lottery_claim_seconds))
    try:
        while True:
            try:
                await settler_pass(ctx.sessionmaker, payments, options, ctx.clock)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lottery settler pass failed; retrying next tick")
            await asyncio.sleep(TICK_SECONDS)
    finally:
        if payments is not None:
            await payments.client.aclose()
