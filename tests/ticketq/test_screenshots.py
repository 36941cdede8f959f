"""`make screenshots` end to end: the real demo stack, every page on both viewports, each
also checked by axe-core as it is photographed (issue 13: no serious or critical violation
on any page)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.settings import Settings
from tests.browser.scanner_fixtures import chromium_or_skip
from tests.support.axe import blocking_violations
from ticketq.screenshots import VIEWPORTS, expected_files, take_screenshots

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_every_page_on_both_viewports_is_a_real_png(tmp_path: Path) -> None:
    chromium_or_skip()
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    settings = Settings.from_env({**environ, "TICKETQ_HOME": str(tmp_path / "home")})
    out = tmp_path / "shots"
    violations: dict[str, list[str]] = {}

    async def check_accessibility(page: object, name: str) -> None:
        if found := await blocking_violations(page):
            violations[name] = found

    written = take_screenshots(settings, out, inspect=check_accessibility)
    assert sorted(path.name for path in written) == sorted(expected_files())
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in expected_files():
        assert f'src="{name}"' in index
        with Image.open(out / name) as image:
            assert image.format == "PNG", name
            width = image.width
            # More than one colour: getcolors gives None past maxcolors, a list otherwise.
            colours = image.convert("RGB").getcolors(maxcolors=1)
        viewport = VIEWPORTS[name.removesuffix(".png").rsplit("-", 1)[1]]
        assert width == viewport["width"], (name, width)  # nothing wider than its screen
        assert colours is None, f"{name} is blank"
    assert violations == {}
