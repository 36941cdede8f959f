"""`ticketq simulate` flags: defaults sized for a laptop, bad values refused up front."""

from __future__ import annotations

import pytest

from loadtest.config import opening_offset_s
from loadtest.simulate import STARTUP_S, drop_spec, parse


def test_defaults_and_the_drop_they_make() -> None:
    options = parse([])
    assert (options.fans, options.tickets, options.duration, options.shape) == (
        1000,
        200,
        90,
        "spike",
    )
    spec = drop_spec(options)
    # Everyone can be admitted within half the window; the drop closes with the window.
    assert spec.admit_per_minute * (options.duration / 2) / 60 >= options.fans
    assert spec.duration_s == int(STARTUP_S + options.duration)
    assert spec.opens_in_s == STARTUP_S + opening_offset_s("spike", 90)
    assert drop_spec(parse(["--locust-workers", "3"])).stride == 3
    # The shop (holds, checkout, orders, webhooks) runs on a gateway of its own by default.
    assert (options.gateway_workers, options.shop_workers) == (1, 1)


@pytest.mark.parametrize(
    "argv",
    [
        ["--abandon", "1.5"],
        ["--cart-abandon", "-0.1"],
        ["--fans", "0"],
        ["--duration", "5"],
        ["--bots", "-1"],
        ["--gateway-workers", "0"],
        ["--shop-workers", "-1"],
        ["--shape", "tsunami"],
        ["--unknown"],
        ["--cluster", "--balancer", "dns", "--plan-only"],
        ["--cluster", "--balancer", "dns", "--report-only", "somewhere"],
        ["--cluster", "--balancer", "dns", "--gateways", "1"],
    ],
)
def test_bad_flags_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(argv)
    assert exited.value.code == 2


def test_the_cluster_shape_takes_locust_workers_per_drop() -> None:
    """A crowd past ~1,000 fans needs more than one Locust process in the Cluster shape
    too (docs/loadtest.md); each drop's plan shares its fans out over them."""
    options = parse(["--cluster", "--balancer", "dns", "--locust-workers", "2"])
    assert options.locust_workers == 2
    assert drop_spec(options).stride == 2
