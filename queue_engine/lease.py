"""Per-drop leases: exactly one worker paces a drop; another takes over when it dies."""

from __future__ import annotations

from core.scripts import ScriptRegistry, run_script


async def take_lease(scripts: ScriptRegistry, drop_id: int, worker_id: str, *, ttl_ms: int) -> bool:
    """Take or renew; False while another live worker holds it (its TTL has not run out)."""
    return bool(await run_script(scripts, "take_lease", drop_id,
                                       [worker_id, ttl_ms]))


async def release_lease(scripts: ScriptRegistry, drop_id: int, worker_id: str) -> bool:
    return bool(await run_script(scripts, "release_lease", drop_id, [worker_id]))
