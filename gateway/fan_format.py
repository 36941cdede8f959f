"""How the fan pages print times, prices and sale states: in the venue's own timezone
(a Paris show at 20:00 reads 20:00 from anywhere) and in the tier's currency's minor
units (JPY has none). Registered as Jinja globals in gateway/templating.py; the browser
re-prints amounts with Intl.NumberFormat (gateway/static/money.js)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# What a fan reads for each phase of core.drop_phase.DropPhase, and a Bootstrap badge
# colour that keeps AA contrast on white (text-bg-* pairs).
SALE_STATES = {
    "scheduled": ("Upcoming", "text-bg-secondary"),
    "prequeue": ("Pre-queue open", "text-bg-info"),
    "open": ("On sale", "text-bg-success"),
    "paused": ("On sale (paused)", "text-bg-warning"),
    "sold_out": ("Sold out", "text-bg-dark"),
    "closed": ("Sale over", "text-bg-light"),
    "cancelled": ("Cancelled", "text-bg-danger"),
}


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a venue row predating timezone checks: still readable


def venue_local(moment: datetime, timezone: str, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    """`moment` on the venue's wall clock, e.g. "Fri 01 May 2031, 20:00"."""
    return moment.astimezone(_zone(timezone)).strftime(pattern)


def zone_abbreviation(moment: datetime, timezone: str) -> str:
    """The zone's short name at that moment (CEST, JST, ...), to say whose clock it is."""
    return moment.astimezone(_zone(timezone)).tzname() or timezone


# ISO 4217 minor units where they are not 2 (Stripe's zero-decimal list, and the
# three-decimal dinars). The browser gets the same from Intl.NumberFormat.
MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG",
                     "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def minor_digits(currency: str) -> int:
    return MINOR_DIGITS.get(currency.upper(), 2)


def money(minor_units: int, currency: str) -> str:
    """An amount in the currency's minor units with its own decimals: 1250 EUR ->
    "12.50 EUR", 1500 JPY -> "1,500 JPY". Pages mark it `data-money` and money.js
    re-prints it with Intl.NumberFormat in the reader's locale ("€12.50", "¥1,500")."""
    digits = minor_digits(currency)
    return f"{minor_units / 10**digits:,.{digits}f} {currency.upper()}"


def price_range(prices: list[tuple[int, str]]) -> str:
    """"12.50 EUR", or low and high joined by an en dash, per currency; "" if none."""
    by_currency: dict[str, list[int]] = {}
    for minor_units, currency in prices:
        by_currency.setdefault(currency.upper(), []).append(minor_units)
    parts = []
    for currency, amounts in sorted(by_currency.items()):
        low, high = min(amounts), max(amounts)
        parts.append(money(low, currency) if low == high
                     else f"{money(low, currency).rsplit(' ', 1)[0]} – {money(high, currency)}")
    return " · ".join(parts)


def sale_state(phase: str) -> tuple[str, str]:
    """(label, badge class) of a drop phase."""
    return SALE_STATES.get(phase, (phase.replace("_", " ").capitalize(), "text-bg-secondary"))
