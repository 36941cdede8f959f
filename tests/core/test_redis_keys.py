"""Key names: one hash tag per drop (one Cluster slot per script), built only here."""

from __future__ import annotations

import dataclasses

import pytest
from redis.crc import key_slot

from core.redis_keys import PREFIX, DropKeys, RateKey, drop_keys

PROPERTIES = [name for name, value in vars(DropKeys).items() if isinstance(value, property)
              and name != "tag"]


def every_key(keys: DropKeys) -> list[str]:
    return [getattr(keys, name) for name in PROPERTIES] + [keys.stock(3)]


def test_every_key_of_a_drop_carries_its_hash_tag_and_one_slot() -> None:
    keys = DropKeys(42)
    assert keys.tag == f"{PREFIX}:{{ev:42}}"
    names = every_key(keys)
    assert len(PROPERTIES) >= 13  # meta, line, ..., holdexp: a new key is covered here too
    assert all(name.startswith("tq:{ev:42}:") for name in names)
    assert {key_slot(name.encode()) for name in names} == {key_slot(b"ev:42")}


def test_keys_of_one_drop_are_distinct_and_never_another_drops() -> None:
    mine, other = every_key(DropKeys(4)), every_key(DropKeys(42))
    assert len(set(mine)) == len(mine)
    assert not set(mine) & set(other)
    # `{ev:4}` must not be a prefix match of `{ev:42}` (SCAN MATCH tq:{ev:4}:* relies on it).
    assert not any(name.startswith(DropKeys(4).tag + ":") for name in other)


def test_tiers_get_their_own_stock_key() -> None:
    keys = drop_keys(7)
    assert keys == DropKeys(7)
    assert keys.stock(1) != keys.stock(2) == "tq:{ev:7}:stock:2"


def test_drop_keys_are_values() -> None:
    assert DropKeys(7) == DropKeys(7) and hash(DropKeys(7)) == hash(DropKeys(7))
    assert dataclasses.is_dataclass(DropKeys) and DropKeys.__dataclass_params__.frozen


def test_a_rate_key_lives_outside_every_drop_tag_and_keeps_its_windows_on_one_slot() -> None:
    key = RateKey("scan-device", "door-1")
    assert key.window(29_000_000) == "tq:{rl:scan-device:door-1}:29000000"
    assert "{ev:" not in key.window(1)
    assert key.window(1) != key.window(2)
    assert key_slot(key.window(1).encode()) == key_slot(key.window(2).encode())
    with pytest.raises(ValueError):
        RateKey("Bad:Scope", "x")
