"""The offer cache: one load per lapse however many holds ask at once; an edit is not undone."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from purchase.offers import OfferCache
from tests.purchase.conftest import Shop


class CountingSessions:
    """The real sessionmaker, counting the sessions the cache opens (one per load)."""

    def __init__(self, sessionmaker: Any) -> None:
        self.sessionmaker = sessionmaker
        self.opened = 0

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        self.opened += 1
        session: AbstractAsyncContextManager[AsyncSession] = self.sessionmaker()
        return session


async def test_concurrent_gets_share_one_load(shop: Shop) -> None:
    sessions = CountingSessions(shop.ctx.sessionmaker)
    cache = OfferCache(sessions, ttl_s=60)  # type: ignore[arg-type]
    offers = await asyncio.gather(*(cache.get(shop.drop_id) for _ in range(20)))
    assert sessions.opened == 1
    assert {offer.drop_id for offer in offers} == {shop.drop_id}
    await cache.get(shop.drop_id)
    assert sessions.opened == 1  # cached


async def test_a_load_begun_before_forget_is_not_kept(shop: Shop) -> None:
    sessions = CountingSessions(shop.ctx.sessionmaker)
    cache = OfferCache(sessions, ttl_s=60)  # type: ignore[arg-type]
    first = asyncio.ensure_future(cache.get(shop.drop_id))
    await asyncio.sleep(0)  # the load has started
    cache.forget(shop.drop_id)  # e.g. a tier edited meanwhile
    await first
    await cache.get(shop.drop_id)
    assert sessions.opened == 2  # the stale load was not cached; this one read afresh
