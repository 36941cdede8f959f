"""RESP encoding for the hot path: EVALSHA calls packed straight to bytes.

redis-py's general packer costs about 15 us per 12-argument EVALSHA (every argument
goes through its Encoder's checks); the auto-pipeline packs hundreds of joins per
event-loop turn, so it packs them here in about 4 us. Only the argument types the
Lua wrappers pass are accepted; anything else is a programming error.
"""

from __future__ import annotations

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


def pack_evalsha(sha: str, keys: Sequence[str], args: Sequence[Any]) -> bytes:
    """One `EVALSHA sha numkeys keys... args...` command in RESP2 wire format."""
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%b\r\n" % (3 + len(keys) + len(args), sha.encode())]
    for value in (len(keys), *keys, *args):
        data = _encode(value)
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)
