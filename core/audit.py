"""Writing to the audit log, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    actor_user_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_user_id=actor_user_id,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            details=details or {},
        )
    )
