"""A tier edit that reaches the sale: Postgres first (catalog.edit_tier, with its audit
row), then every still-selling direct drop of the event rebuilds its Redis stock from
the ledger (purchase.reconcile), so raised capacity can be held at once and lowered
capacity stops being offered.

The catalogue does not know the purchase part (it sits below it), hence this step
here, above both. The rebuild is the same atomic merge a worker runs at start, safe
mid-drop: it neither frees held seats nor sells one twice. Should it fail after the
commit, Postgres still guards capacity, and the next rebuild (worker start,
`ticketq reconcile`) catches up; the venue gets a 503 and sending the same change
again (a no-op in Postgres) retries the rebuild.
"""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from redis.exceptions import RedisError

from catalog import TierEdit, edit_tier
from catalog.authz import Actor
from catalog.edits import TierChanges
from core.errors import Busy
from purchase.context import PurchaseContext
from purchase.reconcile import reconcile_drop


async def change_tier(ctx: PurchaseContext, actor: Actor, event_id: int, tier_id: int, *,
                      now: datetime, **changes: Unpack[TierChanges]) -> TierEdit:
    async with ctx.sessionmaker() as session:
        edit = await edit_tier(session, actor, event_id, tier_id, now=now, **changes)
    for drop_id in edit.selling_drop_ids:
        # A new price or per-fan limit reaches this process's next hold at once; other
        # processes' offer caches follow within their few seconds' ttl (purchase/offers.py).
        ctx.offers.forget(drop_id)
        if "capacity" in changes:  # sent again after a 503: rebuilds though unchanged
            try:
                await reconcile_drop(ctx, drop_id, now=now)
            except RedisError as exc:
                raise Busy("the change is saved but the sale's stock could not follow yet; "
                           "send it again to retry", 5) from exc
    return edit
