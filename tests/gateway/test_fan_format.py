"""gateway/fan_format.py: venue-local times, currency minor units, price ranges, states."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.fan_format import money, price_range, sale_state, venue_local, zone_abbreviation

SHOW = datetime(2031, 5, 1, 18, 0, tzinfo=UTC)


def test_times_are_on_the_venues_clock():
    assert venue_local(SHOW, "Europe/Paris") == "Thu 01 May 2031, 20:00"
    assert venue_local(SHOW, "Asia/Tokyo", "%H:%M") == "03:00"
    assert zone_abbreviation(SHOW, "Europe/Paris") == "CEST"
    assert venue_local(SHOW, "Not/AZone", "%H:%M") == "18:00"  # unreadable zone: UTC


def test_money_uses_the_currencys_own_decimals():
    assert money(1250, "eur") == "12.50 EUR"
    assert money(4500, "JPY") == "4,500 JPY"
    assert money(1234, "KWD") == "1.234 KWD"


def test_price_ranges_are_per_currency_cheapest_first():
    assert price_range([]) == ""
    assert price_range([(5000, "EUR")]) == "50.00 EUR"
    assert price_range([(15000, "EUR"), (5000, "EUR"), (900, "JPY")]) == \
        "50.00 – 150.00 EUR · 900 JPY"


def test_sale_states_read_as_words():
    assert sale_state("prequeue") == ("Pre-queue open", "text-bg-info")
    assert sale_state("something_new")[0] == "Something new"
