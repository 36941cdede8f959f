"""catalog/event_images.reencode on its own: what comes out is always a fresh image."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from catalog.event_images import MAX_WIDTH, reencode
from core.errors import Invalid


def _png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


def test_bytes_appended_after_the_image_do_not_survive() -> None:
    polyglot = _png((8, 8)) + b"<script>alert(1)</script>"
    encoded = reencode(polyglot, "image/png")
    assert b"<script>" not in encoded.data
    assert Image.open(io.BytesIO(encoded.data)).format == "PNG"


def test_transparency_becomes_opaque_in_jpeg_and_width_is_capped() -> None:
    encoded = reencode(_png((MAX_WIDTH + 400, 20), mode="RGBA"), "image/png")
    assert (encoded.width, encoded.height) == (MAX_WIDTH, 16)
    out = io.BytesIO()
    Image.new("RGBA", (4, 4)).save(out, format="PNG")
    assert reencode(out.getvalue(), "image/png").content_type == "image/png"


def test_an_empty_body_is_invalid() -> None:
    with pytest.raises(Invalid, match="not a complete image/webp"):
        reencode(b"", "image/webp")
