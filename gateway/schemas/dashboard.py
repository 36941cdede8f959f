"""The venue dashboard's live numbers of a drop."""

from __future__ import annotations

from gateway.schemas.base import Id, ResponseBody
from gateway.schemas.catalog import Drop


class QueueNumbers(ResponseBody):
    phase: str  # scheduled | prequeue | open | paused | closed | sold_out | unknown (not synced)
    tickets_in_carts: bool
    waiting: int
    prequeue: int
    active_passes: int
    admitted_total: int
    admitted_last_minute: int
    observed_admit_per_minute: float | None
    configured_admit_per_minute: int
    max_active: int


class DropStats(ResponseBody):
    drop: Drop
    event_id: Id
    queue: QueueNumbers
