"""RESP encoding for the hot path: EVALSHA calls packed straight to bytes.

redis-py's general packer costs about 15 us per 12-argument EVALSHA (every argument
goes through its Encoder's checks); the auto-pipeline packs hundreds of joins per
event-loop turn. Here the script and its KEYS, the same for every call of a script
on one drop, are encoded once and kept; only the ARGV are encoded per call. Only
the argument types the Lua wrappers pass are accepted; anything else is a
programming error.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any


def _encode(value: Any) -> bytes:
    kind = type(value)  # exact types: bool is an int subclass Redis must never see
    if kind is str:
        return bytes(value.encode())
    if kind is int:
        return b"%d" % value
    if kind is bytes:
        return bytes(value)
    if kind is float:
        return repr(value).encode()
    raise TypeError(f"cannot send {kind.__name__} to Redis: {value!r}")


def _bulk(value: Any) -> bytes:
    data = _encode(value)
    return b"$%d\r\n%b\r\n" % (len(data), data)


@functools.lru_cache(maxsize=4096)
def _script_and_keys(sha: str, keys: tuple[str, ...]) -> bytes:
    """`EVALSHA sha numkeys keys...` without the array header: fixed per script and drop."""
    return b"".join([b"$7\r\nEVALSHA\r\n", _bulk(sha), _bulk(len(keys)), *map(_bulk, keys)])


def pack_evalsha(sha: str, keys: Sequence[str], args: Sequence[Any]) -> bytes:
    """One `EVALSHA sha numkeys keys... args...` command in RESP2 wire format."""
    return b"".join([b"*%d\r\n" % (3 + len(keys) + len(args)),
                     _script_and_keys(sha, tuple(keys)), *map(_bulk, args)])
