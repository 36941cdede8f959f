"""An event's picture: venue admins put or remove it, anyone fetches a published one.

The rules (types, size, re-encoding, who) are in catalog/event_images.py; this module
only reads the raw body and answers with cache headers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from catalog.event_images import (
    FORMAT_OF_TYPE,
    MAX_UPLOAD_BYTES,
    remove_event_image,
    require_image_editor,
    set_event_image,
    viewable_event_image,
)
from core.models import EventImage
from gateway.auth import optional_user, require_user
from gateway.bodies import read_raw_body
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem

# Browsers revalidate after a day; the URL in event JSON carries ?v=<etag>, so a new
# picture is a new URL and shows at once.
CACHE_CONTROL = "public, max-age=86400"
# A draft's picture, seen only by its venue's admins: no shared cache may keep it.
PRIVATE_CACHE_CONTROL = "private, no-cache"


def image_headers(image: EventImage, *, public: bool = True) -> dict[str, str]:
    return {"ETag": f'"{image.sha256}"',
            "Cache-Control": CACHE_CONTROL if public else PRIVATE_CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff"}


def _upload_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORMAT_OF_TYPE:
        raise Problem(415, "send the image as image/png, image/jpeg or image/webp")
    return content_type


@documented(media_type="image/*", also=(304,))
async def get_event_image(request: Request) -> Response:
    """The published event's picture (ETag; If-None-Match answers 304); a draft's only
    for its venue's admins, not cached by shared caches."""
    viewer = await optional_user(request)
    event_id: int = request.path_params["event_id"]
    async with services_of(request).sessionmaker() as session:
        image, public = await viewable_event_image(session, viewer, event_id)
    headers = image_headers(image, public=public)
    if request.headers.get("if-none-match", "") in (headers["ETag"], image.sha256):
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.content_type, headers=headers)


@documented(auth="venue_admin", status=204)
async def put_event_image(request: Request) -> Response:
    """Set or replace the event's picture: the raw PNG, JPEG or WebP body, at most 2 MiB."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    services = services_of(request)
    async with services.sessionmaker() as session:
        await require_image_editor(session, user, event_id)
    # Read outside the session: a slow upload must not hold a database connection.
    content_type = _upload_type(request)
    raw = await read_raw_body(request, limit=MAX_UPLOAD_BYTES)
    async with services.sessionmaker() as session:
        image = await set_event_image(session, user, event_id, raw, content_type,
                                      now=services.clock())
    return Response(status_code=204, headers={"ETag": f'"{image.sha256}"'})


@documented(auth="venue_admin", status=204)
async def delete_event_image(request: Request) -> Response:
    """Remove the event's picture (none left is the goal, so removing none is fine too)."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    async with services_of(request).sessionmaker() as session:
        await remove_event_image(session, user, event_id)
    return Response(status_code=204)


routes = [
    Route("/api/events/{event_id:id}/image", get_event_image, methods=["GET"]),
    Route("/api/events/{event_id:id}/image", put_event_image, methods=["PUT"]),
    Route("/api/events/{event_id:id}/image", delete_event_image, methods=["DELETE"]),
]
