"""What every catalogue change shares: input checks, and the audit row committed with it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from core import audit
from core.errors import Invalid


async def commit_with_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject: tuple[str, int | str],
    **details: Any,
) -> None:
    """Record who did what in the audit log, in the same transaction as the change."""
    subject_type, subject_id = subject
    audit.record(
        session,
        actor_user_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
    )
    await session.commit()


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Paris'"
        ) from exc


def aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise Invalid(f"{field} needs a timezone offset, e.g. 2026-12-01T20:00:00Z")
    return moment
