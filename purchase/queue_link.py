"""The one call from purchase into the waiting room: a paid fan frees their active slot."""

from __future__ import annotations

import logging

from core.scripts import ScriptRegistry
from queue_engine.passes import complete_pass

log = logging.getLogger("ticketq.purchase")


async def free_active_slot(scripts: ScriptRegistry, drop_id: int, fan_id: int, *,
                           now_ms: int) -> bool:
    """Tell the queue the fan finished buying, so admission can let the next fan in."""
    try:
        return await complete_pass(scripts, drop_id, fan_id, now_ms=now_ms)
    except Exception:  # the order is paid either way; the slot then lapses at pass expiry
        log.exception("complete_pass failed for fan %s in drop %s", fan_id, drop_id)
        return False
