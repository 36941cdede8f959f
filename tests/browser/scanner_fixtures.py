"""Playwright helpers for the door app: Debian's chromium with a fake camera showing a QR.

The fake camera plays a YUV4MPEG2 (.y4m) file, written here without Pillow or
ffmpeg: a grey-scale I420 frame with the QR's modules drawn as black squares.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import segno

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 640, 480


def chromium_or_skip() -> str:
    """The chromium binary; skip when missing, unless TICKETQ_REQUIRE_BROWSER=1 (then fail)."""
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        reason = "Debian's chromium is not installed at /usr/bin/chromium"
        if os.environ.get("TICKETQ_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and TICKETQ_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return str(found)


def qr_video(text: str, path: Path, *, frames: int = 2) -> Path:
    """A .y4m clip of the QR for `text`, centred on a white 640x480 frame."""
    qr = segno.make(text, error="m", micro=False)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    scale = min(WIDTH, HEIGHT) // len(rows)
    left, top = (WIDTH - len(rows) * scale) // 2, (HEIGHT - len(rows) * scale) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if not dark:
                continue
            for dy in range(scale):
                start = (top + y * scale + dy) * WIDTH + left + x * scale
                luma[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    with path.open("wb") as out:
        out.write(header)
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def chromium_args(video: Path) -> list[str]:
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
