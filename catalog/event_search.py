"""Fans' search over published events: by city, by day (on the venue's own calendar) and
by words in the title, description or venue name. Plain SQL filters; the home page and
GET /api/events share them, so both answer the same question the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Event, Venue

MAX_TERM_LENGTH = 200


@dataclass(frozen=True)
class EventSearch:
    city: str | None = None  # the venue's city, case-insensitive, whole name
    day: date | None = None  # the event starts on this date at the venue
    text: str | None = None  # words anywhere in title, description or venue name
    ending_after: datetime | None = None  # hide events that are already over


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_published_events(session: AsyncSession, search: EventSearch, *,
                                  limit: int = 100) -> list[tuple[Event, Venue]]:
    """Published events matching every given filter, soonest first, with their venue."""
    query = (select(Event, Venue).join(Venue, Venue.id == Event.venue_id)
             .where(Event.status == "published"))
    if search.city:
        query = query.where(func.lower(Venue.city) == search.city.strip().lower())
    if search.day is not None:
        # The venue's calendar day: a 23:30 show in Tokyo is on its Tokyo date.
        query = query.where(cast(func.timezone(Venue.timezone, Event.starts_at), Date)
                            == search.day)
    if search.text:
        for word in search.text.split()[:10]:
            pattern = _like(word)
            query = query.where(or_(Event.title.ilike(pattern, escape="\\"),
                                    Event.description.ilike(pattern, escape="\\"),
                                    Venue.name.ilike(pattern, escape="\\")))
    if search.ending_after is not None:
        query = query.where(Event.ends_at > search.ending_after)
    rows = await session.execute(query.order_by(Event.starts_at, Event.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def published_cities(session: AsyncSession) -> list[str]:
    """The cities with a published event, for the home page's city picker."""
    rows = await session.scalars(
        select(Venue.city).join(Event, Event.venue_id == Venue.id)
        .where(Event.status == "published").distinct().order_by(Venue.city))
    return list(rows)
