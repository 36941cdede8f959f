"""An event's picture: checked, re-encoded and stored, one per event.

Every upload is decoded by Pillow and encoded anew, never stored as sent: that drops
EXIF/GPS metadata and anything hidden after or inside the image (polyglot files), and
the stored bytes are always an image of the type we say. Decoding is bounded: the pixel
count is checked from the header before any pixel is decoded (decompression bombs),
and wide pictures are scaled down to what a page shows.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor, can_manage_venue
from catalog.changes import commit_with_audit
from catalog.events import managed_event, visible_event
from core.errors import Invalid, NotFound
from core.models import Event, EventImage

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_WIDTH = 1600
# Pillow's name of each accepted upload type, and the type it is re-encoded as.
FORMAT_OF_TYPE = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def event_image_url(event: Event) -> str | None:
    """Where pages and event JSON find the picture, or None. The version from its sha256
    makes a new picture a new URL, so the day-long browser cache (gateway/event_image_api)
    never shows the old one. The one owner of this URL: JSON, pages and tickets use it."""
    if event.image_sha256 is None:
        return None
    return f"/api/events/{event.id}/image?v={event.image_sha256[:12]}"


@dataclass(frozen=True)
class Encoded:
    content_type: str
    data: bytes
    width: int
    height: int


def reencode(raw: bytes, content_type: str) -> Encoded:
    """The upload decoded and encoded again in its own type; Invalid if it is not one."""
    expected = FORMAT_OF_TYPE[content_type]
    try:
        with Image.open(io.BytesIO(raw), formats=[expected]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Invalid(f"the image has too many pixels ({width}x{height}); "
                              f"at most {MAX_PIXELS:,}")
            image.load()
            picture = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as exc:
        raise Invalid(f"the body is not a complete {content_type} image") from exc
    if picture.width > MAX_WIDTH:
        height = round(picture.height * MAX_WIDTH / picture.width)
        picture = picture.resize((MAX_WIDTH, max(height, 1)), Image.Resampling.LANCZOS)
    if expected == "JPEG" and picture.mode != "RGB":
        picture = picture.convert("RGB")
    out = io.BytesIO()
    picture.save(out, format=expected, **({"quality": 85} if expected != "PNG" else {}))
    return Encoded(content_type, out.getvalue(), picture.width, picture.height)


async def require_image_editor(session: AsyncSession, actor: Actor, event_id: int) -> None:
    """Refuse (404/403) anyone who may not change the event's picture, before the gateway
    looks at the upload's type or body: outsiders learn nothing from a 415 or a 413."""
    await managed_event(session, actor, event_id)


async def set_event_image(session: AsyncSession, actor: Actor, event_id: int, raw: bytes,
                          content_type: str, *, now: datetime) -> EventImage:
    """Replace the event's picture (venue admins; audited). Bad input changes nothing."""
    event = await managed_event(session, actor, event_id)
    encoded = reencode(raw, content_type)
    image = await session.get(EventImage, event.id)
    if image is None:
        image = EventImage(event_id=event.id)
        session.add(image)
    image.content_type, image.data = encoded.content_type, encoded.data
    image.sha256 = hashlib.sha256(encoded.data).hexdigest()
    image.width, image.height, image.updated_at = encoded.width, encoded.height, now
    await commit_with_audit(session, actor, "event.image_set", ("event", event.id),
                            content_type=encoded.content_type, width=encoded.width,
                            height=encoded.height, sha256=image.sha256)
    return image


async def remove_event_image(session: AsyncSession, actor: Actor, event_id: int) -> None:
    """Remove the event's picture (venue admins; audited). Idempotent: none stays none."""
    event = await managed_event(session, actor, event_id)
    image = await session.get(EventImage, event.id)
    if image is None:
        return
    await session.delete(image)
    await commit_with_audit(session, actor, "event.image_remove", ("event", event.id))


async def viewable_event_image(session: AsyncSession, viewer: Actor | None,
                               event_id: int) -> tuple[EventImage, bool]:
    """The picture and whether anyone may see it (a published event's), else 404.

    A venue's admins also see the picture of their draft, so the venue page can preview
    it before publishing; the gateway must not let shared caches keep that one."""
    event = await visible_event(session, viewer, event_id)
    image = await session.get(EventImage, event.id)
    public = event.status == "published"
    if image is None or not (public or await can_manage_venue(session, viewer, event.venue_id)):
        raise NotFound("this event has no image")
    return image, public
