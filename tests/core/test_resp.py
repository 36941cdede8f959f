"""The hot-path RESP packer writes exactly what redis-py would, and refuses what it must."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection

from core.resp import pack_evalsha

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("args", [
    [], [0, -1, 2**62], ["plain", "ünïcødé", ""], [1.5, -0.25], [b"\x00\r\n raw"],
])
def test_matches_redis_py_byte_for_byte(args):
    keys = ["tq:{ev:7}:meta", "tq:{ev:7}:line"]
    expected = b"".join(Connection().pack_command("EVALSHA", SHA, len(keys), *keys, *args))
    assert pack_evalsha(SHA, keys, args) == expected


@pytest.mark.parametrize("value", [True, None, [1], {"a": 1}])
def test_refuses_values_redis_would_misread(value):
    with pytest.raises(TypeError, match="cannot send"):
        pack_evalsha(SHA, ["k"], [value])

