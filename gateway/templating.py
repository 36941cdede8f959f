"""Jinja2 templates shared by every page (server-rendered HTML, no build step)."""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

from catalog.event_images import event_image_url
from gateway import fan_format

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# The fan pages print times in the venue's zone and prices in the currency's own units.
templates.env.globals.update(
    venue_local=fan_format.venue_local, zone_abbreviation=fan_format.zone_abbreviation,
    money=fan_format.money, price_range=fan_format.price_range,
    sale_state=fan_format.sale_state, event_image_url=event_image_url,
)
