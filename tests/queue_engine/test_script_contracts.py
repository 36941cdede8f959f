"""Every script's header declares exactly the KEYS its wrapper passes, in order, and the
shared includes are spliced in after the header."""

from __future__ import annotations

import re

import pytest

from core.redis_keys import SCRIPT_KEYS, DropKeys
from core.scripts import load_sources, splice_includes

HEADER_KEY = re.compile(r"^\s*KEYS\[(\d+)\]\s+(\S+)", re.MULTILINE)
SOURCES = load_sources()


# Scripts whose keys are not a drop's: the rate limiter's come from core.redis_keys.RateKey,
# and tests/core/test_rate_limits.py checks its header against them.
NOT_DROP_SCRIPTS = {"hit_rate_limit"}


def test_every_script_has_its_keys_in_the_one_table() -> None:
    assert set(SCRIPT_KEYS) == set(SOURCES) - NOT_DROP_SCRIPTS


@pytest.mark.parametrize("name", sorted(SCRIPT_KEYS))
def test_wrapper_passes_the_header_keys_in_order(name: str) -> None:
    header = SOURCES[name].header
    declared = [key for _, key in sorted(HEADER_KEY.findall(header), key=lambda m: int(m[0]))]
    passed = SCRIPT_KEYS[name](DropKeys(7))
    assert passed == [key.replace("{ev:ID}", "{ev:7}") for key in declared]
    assert SOURCES[name].key_count == len(passed)


@pytest.mark.parametrize("name", sorted(SCRIPT_KEYS))
def test_header_lists_argv_and_returns(name: str) -> None:
    header = SOURCES[name].header
    assert header.startswith(f"--[[ {name}:")
    assert "ARGV[1]" in header
    assert "Returns" in header


@pytest.mark.parametrize("name", sorted(SCRIPT_KEYS))
def test_includes_are_spliced_after_the_header(name: str) -> None:
    source = SOURCES[name]
    compiled = source.compiled
    assert compiled.startswith(source.header)
    assert "-- @include" not in compiled


def test_the_sold_out_state_and_phase_rules_have_one_home_each() -> None:
    """Only lua/includes/sold_out.lua writes the meta field; scripts use its functions."""
    touches_field = re.compile(r"rcall\([^)]*'sold_out'")
    for name, source in SOURCES.items():
        assert not touches_field.search(source.text), name
    uses = {name for name, source in SOURCES.items() if "-- @include drop_phase" in source.text}
    assert uses == {"join_line", "admit_batch"}


def test_includes_nest_once_and_unknown_ones_fail_at_load() -> None:
    twice = splice_includes("-- @include drop_phase\n-- @include sold_out\n")
    assert twice.count("local function readSellout") == 1
    with pytest.raises(ValueError, match=r"no lua/includes/nope\.lua"):
        splice_includes("-- @include nope\n")


def test_every_key_of_a_drop_shares_one_hash_tag() -> None:
    keys = {key for build in SCRIPT_KEYS.values() for key in build(DropKeys(42))}
    assert {key.split("}")[0] + "}" for key in keys} == {"tq:{ev:42}"}
