"""`make screenshots` end to end: the real demo stack, every page on both viewports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.settings import Settings
from tests.browser.scanner_fixtures import chromium_or_skip
from ticketq.screenshots import VIEWPORTS, expected_files, take_screenshots

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Pages wider than a 390 px phone today (their markup is another helper's): the run shows
# them as they are; when one is fixed, this test says so and it leaves the list.
KNOWN_OVERFLOW = {"account-phone.png"}


def test_every_page_on_both_viewports_is_a_real_png(tmp_path: Path) -> None:
    chromium_or_skip()
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    settings = Settings.from_env({**environ, "TICKETQ_HOME": str(tmp_path / "home")})
    out = tmp_path / "shots"
    written = take_screenshots(settings, out)
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
        if name in KNOWN_OVERFLOW:
            assert width > viewport["width"], f"{name} fits now: drop it from KNOWN_OVERFLOW"
        else:
            assert width == viewport["width"], (name, width)
        assert colours is None, f"{name} is blank"
