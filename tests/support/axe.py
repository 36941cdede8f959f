"""axe-core (npm, devDependency) run inside a Playwright page: the accessibility bar of
issue 13 is "no serious or critical violation on any page, desktop and phone".

The engine is evaluated through the DevTools protocol rather than added as a <script>
element, so the page's strict CSP (no inline script) stays exactly as fans get it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

# The two viewports every page is checked on (a laptop and a 390 px phone): the same ones
# `make screenshots` shows, defined there once.
from ticketq.screenshots import VIEWPORTS as VIEWPORTS

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@cache
def _axe_source() -> str:
    if not AXE_SOURCE.is_file():
        raise RuntimeError(f"{AXE_SOURCE} is missing: run `make install` (npm ci)")
    return AXE_SOURCE.read_text(encoding="utf-8")


async def blocking_violations(page: Any) -> list[str]:
    """One line per serious or critical axe violation on the page as it is now."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(f"() => {{ {_axe_source()}\n}}")
    results = await page.evaluate(
        "() => window.axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
