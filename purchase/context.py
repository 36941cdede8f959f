"""Everything a purchase service needs, built once per gateway process or worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.errors import Busy
from core.models import Hold
from core.scripts import ScriptRegistry
from core.settings import Settings
from payments.stripe_client import StripeClient, from_settings
from purchase.offers import OfferCache
from purchase.row_batcher import RowBatcher


@dataclass
class PurchaseContext:
    settings: Settings
    scripts: ScriptRegistry
    sessionmaker: async_sessionmaker[AsyncSession]
    stripe: StripeClient | None = None
    clock: Callable[[], datetime] = utcnow
    offers: OfferCache = field(init=False)
    # Hold mirror rows, many per commit (see purchase.row_batcher; one per process).
    hold_mirror: RowBatcher = field(init=False)

    def __post_init__(self) -> None:
        self.offers = OfferCache(self.sessionmaker)
        # A Core INSERT on the table: the ORM-enabled one re-derived its columns per batch.
        self.hold_mirror = RowBatcher(self.sessionmaker, insert(cast(Table, Hold.__table__)))

    @property
    def payments(self) -> StripeClient:
        if self.stripe is None:
            raise Busy("payments are not configured on this server (STRIPE_API_KEY)", 30)
        return self.stripe

    async def aclose(self) -> None:
        if self.stripe is not None:
            await self.stripe.aclose()


def build_context(settings: Settings, scripts: ScriptRegistry,
                  sessionmaker: async_sessionmaker[AsyncSession],
                  clock: Callable[[], datetime] = utcnow) -> PurchaseContext:
    return PurchaseContext(settings=settings, scripts=scripts, sessionmaker=sessionmaker,
                           stripe=from_settings(settings), clock=clock)
