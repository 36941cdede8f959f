"""The account farm against a real gateway process (the suite's live server), from a
loopback address other than the gateway's own: sign-ups, sign-ins and joins from one
address, and how its outcome is judged. (Whether the limits stop it is the rehearsal's
check, tests/loadtest/test_simulate.py, whose gateway exempts only 127.0.0.1; the suite's
exempts all of 127.0.0.0/8, so here the farm gets every place it asks for.)"""

from __future__ import annotations

import ipaddress

from loadtest.farm import FarmOutcome, farm_address, farm_client, run_farm
from tests.support.api import create_drop_setup


def test_farm_addresses_are_loopback_outside_the_crowds_network():
    for _ in range(200):
        address = ipaddress.ip_address(farm_address())
        assert address.is_loopback and address not in ipaddress.ip_network("127.0.0.0/24")


def test_the_outcome_is_a_success_only_past_twice_the_limit():
    assert not FarmOutcome(places=20).success(10) and FarmOutcome(places=21).success(10)
    outcome = FarmOutcome(address="127.0.0.2", signed_up=2, signed_in=2, places=1)
    outcome.saw("join", 201)
    outcome.saw("join", 429)
    assert outcome.note() == ("2 sign-ups, 2 sign-ins, 1 places from 127.0.0.2: "
                              "join 201 x1, join 429 x1")


async def test_the_farm_signs_up_solves_and_joins_from_its_own_address(client, live_server):
    setup = await create_drop_setup(client, challenge_difficulty=1_000)
    address = farm_address()
    with farm_client(live_server.url, address) as farm:
        outcome = run_farm(farm, setup.drop_id, address, accounts=3)
    assert (outcome.signed_up, outcome.signed_in, outcome.places) == (3, 3, 3), outcome.note()
    assert outcome.statuses == {"signup 202": 3, "login 200": 3, "join 201": 3}
