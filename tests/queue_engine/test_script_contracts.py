"""Every queue script's header declares exactly the KEYS its wrapper passes, in order."""

from __future__ import annotations

import re

import pytest

from core.redis_keys import DropKeys
from core.scripts import load_sources
from queue_engine.script_keys import KEYS_FOR

HEADER_KEY = re.compile(r"^\s*KEYS\[(\d+)\]\s+(\S+)", re.MULTILINE)
SOURCES = load_sources()


@pytest.mark.parametrize("name", sorted(KEYS_FOR))
def test_wrapper_passes_the_header_keys_in_order(name: str) -> None:
    header = SOURCES[name].header
    declared = [key for _, key in sorted(HEADER_KEY.findall(header), key=lambda m: int(m[0]))]
    passed = KEYS_FOR[name](DropKeys(7))
    assert passed == [key.replace("{ev:ID}", "{ev:7}") for key in declared]
    assert SOURCES[name].key_count == len(passed)


@pytest.mark.parametrize("name", sorted(KEYS_FOR))
def test_header_lists_argv_and_returns(name: str) -> None:
    header = SOURCES[name].header
    assert header.startswith(f"--[[ {name}:")
    assert "ARGV[1]" in header
    assert "Returns" in header


def test_every_key_of_a_drop_shares_one_hash_tag() -> None:
    keys = {key for build in KEYS_FOR.values() for key in build(DropKeys(42))}
    assert {key.split("}")[0] + "}" for key in keys} == {"tq:{ev:42}"}
