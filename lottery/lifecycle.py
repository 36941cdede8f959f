"""The lottery's clock-driven steps: seal the entry list at close, draw at draw_at.

Each step locks the lottery row (FOR UPDATE) and moves its state forward only
from the state it expects, so any number of workers may run them: one does the
work, the others find nothing to do. Entering holds the same row FOR KEY SHARE
while it marks an entry 'entered', so sealing waits for entries in flight and
then freezes exactly the list it hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, String, bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.drop_phase import DropPhase, drop_phase
from core.models import Drop, TicketTier
from lottery.draw import EntryTicket, entries_digest, run_draw
from lottery.models import LotteryDrop, LotteryEntry


class SealBroken(RuntimeError):
    """The entered list no longer hashes to what was sealed: refuse to draw."""


async def _entered(session: AsyncSession, drop_id: int) -> list[EntryTicket]:
    rows = await session.execute(
        select(LotteryEntry.id, LotteryEntry.tier_id, LotteryEntry.quantity)
        .where(LotteryEntry.drop_id == drop_id,
               LotteryEntry.status.in_(["entered", "won", "lost"]))
        .order_by(LotteryEntry.id))
    return [EntryTicket(id=row.id, tier_id=row.tier_id, quantity=row.quantity) for row in rows]


async def seal(session: AsyncSession, drop_id: int, now: datetime) -> bool:
    """Freeze the entry list once the window has closed; publish its hash and count."""
    lottery = await session.get(LotteryDrop, drop_id, with_for_update=True)
    drop = await session.get(Drop, drop_id)
    if lottery is None or drop is None or lottery.state != "open":
        await session.rollback()
        return False
    if drop_phase(drop, now) not in {DropPhase.CLOSED, DropPhase.SOLD_OUT, DropPhase.CANCELLED}:
        await session.rollback()
        return False
    entries = await _entered(session, drop_id)
    lottery.entries_hash = entries_digest(entries)
    lottery.entries_count = len(entries)
    lottery.state = "sealed"
    lottery.sealed_at = now
    audit.record(session, actor_user_id=None, action="lottery.seal", subject_type="drop",
                 subject_id=drop_id, details={"entries_count": len(entries),
                                              "entries_hash": lottery.entries_hash})
    await session.commit()
    return True


async def remaining_capacity(session: AsyncSession, drop: Drop) -> dict[int, int]:
    """Seats each tier can still sell; none when the drop was cancelled."""
    tiers = await session.scalars(select(TicketTier).where(TicketTier.event_id == drop.event_id))
    cancelled = drop.state == "cancelled"
    return {tier.id: 0 if cancelled else tier.capacity - tier.sold for tier in tiers}


# One statement writes every rank and outcome: 100,000 entries in one round trip.
_WRITE_OUTCOMES = text(
    "UPDATE lottery_entries AS e SET rank = v.rank, status = v.status, settlement = 'pending' "
    "FROM unnest(:ids, :ranks, :statuses) AS v(id, rank, status) WHERE e.id = v.id"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("ranks", type_=ARRAY(BigInteger)),
             bindparam("statuses", type_=ARRAY(String)))


async def draw(session: AsyncSession, drop_id: int, now: datetime) -> bool:
    """Rank the sealed entries, record winners and losers, publish the seed."""
    lottery = await session.get(LotteryDrop, drop_id, with_for_update=True)
    drop = await session.get(Drop, drop_id)
    if lottery is None or drop is None or lottery.state != "sealed":
        await session.rollback()
        return False
    if now < lottery.draw_at and drop.state != "cancelled":
        await session.rollback()
        return False
    entries = await _entered(session, drop_id)
    if entries_digest(entries) != lottery.entries_hash:
        await session.rollback()
        raise SealBroken(f"lottery {drop_id}: entries changed since they were sealed")
    capacity = await remaining_capacity(session, drop)
    result = run_draw(lottery.seed, entries, capacity, lottery.public_randomness)
    winners = set(result.winners)
    ids = [entry.id for entry in result.ranking]
    await session.execute(_WRITE_OUTCOMES, {
        "ids": ids, "ranks": list(range(1, len(ids) + 1)),
        "statuses": ["won" if entry_id in winners else "lost" for entry_id in ids]})
    lottery.draw_capacity = {str(tier_id): seats for tier_id, seats in capacity.items()}
    lottery.state = "drawn"
    lottery.drawn_at = now
    audit.record(session, actor_user_id=None, action="lottery.draw", subject_type="drop",
                 subject_id=drop_id, details={"winners": len(result.winners),
                                              "entries": len(entries)})
    await session.commit()
    return True


async def due_lotteries(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """(drop_id, state) of lotteries with clock-driven work: to seal, to draw, to settle."""
    rows = await session.execute(
        select(LotteryDrop.drop_id, LotteryDrop.state).join(Drop, Drop.id == LotteryDrop.drop_id)
        .where(or_(
            (LotteryDrop.state == "open")
            & (or_(Drop.closes_at <= now, Drop.state.in_(["closed", "sold_out", "cancelled"]))),
            (LotteryDrop.state == "sealed")
            & (or_(LotteryDrop.draw_at <= now, Drop.state == "cancelled")),
            LotteryDrop.state == "drawn",
        )).order_by(LotteryDrop.draw_at))
    return [(row.drop_id, row.state) for row in rows]


async def advance(
    sessionmaker: async_sessionmaker[AsyncSession], drop_id: int, now: datetime
) -> dict[str, Any]:
    """Seal and draw whatever is due for one lottery; what happened."""
    async with sessionmaker() as session:
        sealed = await seal(session, drop_id, now)
    async with sessionmaker() as session:
        drawn = await draw(session, drop_id, now)
    return {"sealed": sealed, "drawn": drawn}
