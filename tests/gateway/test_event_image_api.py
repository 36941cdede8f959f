"""PUT/GET/DELETE /api/events/{id}/image: real Pillow, real Postgres, real gateway."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.event_images import MAX_UPLOAD_BYTES, MAX_WIDTH
from core.models import AuditEntry, Event
from tests.support.api import DropSetup, create_drop_setup, sign_up, unique_title


def picture(fmt: str, size: tuple[int, int] = (64, 32), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    options = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SecretCameraMaker"  # Make
        options["exif"] = tags.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in its header and has almost no data (a bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


async def _put(client: httpx.AsyncClient, setup: DropSetup, body: bytes, content_type: str,
               headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.put(f"/api/events/{setup.event_id}/image", content=body,
                            headers={**(headers or setup.admin.headers),
                                     "Content-Type": content_type})


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
async def test_each_type_is_stored_and_served_with_cache_headers(
        client: httpx.AsyncClient, fmt: str, content_type: str) -> None:
    setup = await create_drop_setup(client)
    put = await _put(client, setup, picture(fmt), content_type)
    assert put.status_code == 204, put.text
    got = await client.get(f"/api/events/{setup.event_id}/image")
    assert got.status_code == 200
    assert got.headers["content-type"] == content_type
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in got.headers["cache-control"]
    assert got.headers["etag"] == put.headers["etag"]
    assert Image.open(io.BytesIO(got.content)).size == (64, 32)
    again = await client.get(f"/api/events/{setup.event_id}/image",
                             headers={"If-None-Match": got.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_exif_is_stripped_and_wide_images_shrink(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    sent = picture("JPEG", size=(MAX_WIDTH * 2, 100), exif=True)
    assert b"SecretCameraMaker" in sent
    assert (await _put(client, setup, sent, "image/jpeg")).status_code == 204
    stored = (await client.get(f"/api/events/{setup.event_id}/image")).content
    assert b"SecretCameraMaker" not in stored
    image = Image.open(io.BytesIO(stored))
    assert not image.getexif()
    assert image.size == (MAX_WIDTH, 50)


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b"<?php echo 1; ?>", "image/png", 422),  # not an image
    (picture("PNG"), "image/jpeg", 422),  # a PNG sent as JPEG
    (picture("PNG")[:60], "image/png", 422),  # truncated
    (png_header_only(30_000, 30_000), "image/png", 422),  # decompression bomb
    (picture("PNG"), "image/gif", 415),  # a type we do not take
    (picture("PNG"), "text/html", 415),
])
async def test_bad_uploads_are_refused_and_change_nothing(
        client: httpx.AsyncClient, body: bytes, content_type: str, status: int) -> None:
    setup = await create_drop_setup(client)
    first = await _put(client, setup, picture("PNG", size=(10, 10)), "image/png")
    assert first.status_code == 204
    before = (await client.get(f"/api/events/{setup.event_id}/image")).content
    answer = await _put(client, setup, body, content_type)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/events/{setup.event_id}/image")).content == before


async def test_a_body_over_two_mib_is_413(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    answer = await _put(client, setup, b"\x00" * (MAX_UPLOAD_BYTES + 1), "image/png")
    assert answer.status_code == 413


async def test_only_the_venues_admins_may_change_it(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    other_venue = await create_drop_setup(client)
    fan = await sign_up(client)
    for outsider in (fan.headers, other_venue.admin.headers):
        answer = await _put(client, setup, picture("PNG"), "image/png", headers=outsider)
        assert answer.status_code == 403, answer.text
        removed = await client.delete(f"/api/events/{setup.event_id}/image", headers=outsider)
        assert removed.status_code == 403
    anonymous = await client.put(f"/api/events/{setup.event_id}/image", content=picture("PNG"),
                                 headers={"Content-Type": "image/png"})
    assert anonymous.status_code == 401
    assert (await client.get(f"/api/events/{setup.event_id}/image")).status_code == 404


async def test_unpublished_event_image_is_404_and_delete_removes_it(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    draft = await create_drop_setup(client, published=False)
    assert (await _put(client, draft, picture("PNG"), "image/png")).status_code == 204
    assert (await client.get(f"/api/events/{draft.event_id}/image")).status_code == 404
    outsider = await sign_up(client, "outsider")
    assert (await client.get(f"/api/events/{draft.event_id}/image",
                             headers=outsider.headers)).status_code == 404
    # Its own venue admins preview it, and no shared cache may keep a draft's picture.
    preview = await client.get(f"/api/events/{draft.event_id}/image", headers=draft.admin.headers)
    assert preview.status_code == 200 and preview.headers["cache-control"].startswith("private")
    setup = await create_drop_setup(client)
    assert (await _put(client, setup, picture("PNG"), "image/png")).status_code == 204
    removed = await client.delete(f"/api/events/{setup.event_id}/image",
                                  headers=setup.admin.headers)
    assert removed.status_code == 204
    assert (await client.get(f"/api/events/{setup.event_id}/image")).status_code == 404
    async with sessionmaker() as session:
        actions = (await session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_type == "event",
                                            AuditEntry.subject_id == str(setup.event_id))
            .order_by(AuditEntry.id))).all()
    assert actions[-2:] == ["event.image_set", "event.image_remove"]


async def test_event_json_names_a_versioned_image_url_or_null(client: httpx.AsyncClient) -> None:
    title = unique_title()
    setup = await create_drop_setup(client, title=title)
    one = f"/api/events/{setup.event_id}"

    async def urls() -> tuple[object, object]:
        listed = (await client.get("/api/events", params={"q": title})).json()["events"]
        in_list = next(e["image_url"] for e in listed if e["id"] == setup.event_id)
        return in_list, (await client.get(one)).json()["image_url"]

    assert await urls() == (None, None)
    first = picture("PNG")
    assert (await _put(client, setup, first, "image/png")).status_code == 204
    in_list, alone = await urls()
    assert in_list == alone
    assert isinstance(alone, str) and alone.startswith(f"{one}/image?v=")
    version = alone.rsplit("=", 1)[1]
    assert len(version) == 12 and all(c in "0123456789abcdef" for c in version)
    got = await client.get(alone)
    assert got.status_code == 200 and got.headers["etag"].strip('"').startswith(version)

    assert (await _put(client, setup, picture("PNG", (80, 40)), "image/png")).status_code == 204
    assert (await urls())[1] != alone  # a new picture is a new URL, past the browser cache
    assert (await client.delete(f"{one}/image", headers=setup.admin.headers)).status_code == 204
    assert await urls() == (None, None)


def test_event_rows_carry_the_image_hash_but_never_its_bytes() -> None:
    sql = str(select(Event))
    assert "event_images.sha256" in sql and "event_images.data" not in sql
