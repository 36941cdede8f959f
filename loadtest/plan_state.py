"""The plan of the running Locust process, loaded once from --tq-plan or TQ_PLAN."""

from __future__ import annotations

import os

from loadtest.config import Plan

_PLAN: Plan | None = None


def load(path: str | None) -> Plan:
    global _PLAN
    source = path or os.environ.get("TQ_PLAN", "")
    if not source:
        raise RuntimeError(
            "no plan: pass --tq-plan PATH (written by `ticketq simulate --plan-only`)"
        )
    _PLAN = Plan.load(source)
    return _PLAN


def plan() -> Plan:
    if _PLAN is None:
        return load(None)
    return _PLAN
