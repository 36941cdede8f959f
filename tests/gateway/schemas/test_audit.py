"""The audit page's schema: what the endpoint sends validates; undeclared fields do not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.schemas.audit import AuditPage

ENTRY = {"id": 1, "at": "2026-12-01T20:00:00+00:00", "actor_user_id": None,
         "actor_email": None, "action": "lottery.draw", "subject_type": "drop",
         "subject_id": "3", "details": {"winners": 2}}


def test_a_page_validates_and_extra_fields_are_refused() -> None:
    AuditPage.model_validate({"entries": [ENTRY], "next_cursor": None, "limit": 50})
    with pytest.raises(ValidationError):
        AuditPage.model_validate({"entries": [{**ENTRY, "ip": "10.0.0.1"}],
                                  "next_cursor": None, "limit": 50})
