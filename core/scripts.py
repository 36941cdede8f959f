"""The one registry of Lua scripts: nothing else in TicketQ calls EVAL.

Each file in `lua/` is one atomic operation, `verb_noun.lua`, opening with a
contract header (see ../shared/STYLE.md) that lists KEYS, ARGV and returns.
Scripts are loaded with importlib.resources and registered once per client with
redis-py's `register_script` (EVALSHA, falling back to EVAL on NOSCRIPT).
Typed wrappers in the domain packages call `ScriptRegistry.run`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from core.redis_client import RedisClient

_KEY_LINE = re.compile(r"^\s*KEYS\[(\d+)\]", re.MULTILINE)
_ARGV_LINE = re.compile(r"ARGV\[(\d+)\]")
_ERROR_REPLY = re.compile(r"^(?:ERR )?TQ:(?P<code>[A-Z_]+)(?::(?P<detail>.*))?$")


@dataclass(frozen=True)
class ScriptSource:
    name: str
    text: str

    @property
    def header(self) -> str:
        start = self.text.find("--[[")
        end = self.text.find("]]", start)
        if start != 0 or end < 0:
            raise ValueError(f"lua/{self.name}.lua must open with a --[[ ... ]] contract header")
        return self.text[start:end]

    @property
    def key_count(self) -> int:
        """How many KEYS the header declares (KEYS[1]..KEYS[n], each on its own line)."""
        numbers = sorted({int(n) for n in _KEY_LINE.findall(self.header)})
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"lua/{self.name}.lua header KEYS are not numbered 1..n: {numbers}")
        return len(numbers)


def load_sources() -> dict[str, ScriptSource]:
    sources = {}
    for entry in resources.files("lua").iterdir():
        if entry.name.endswith(".lua"):
            name = entry.name.removesuffix(".lua")
            sources[name] = ScriptSource(name, entry.read_text(encoding="utf-8"))
    return sources


class ScriptError(Exception):
    """A script refused the operation with a `TQ:CODE[:detail]` error reply."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def parse_script_error(message: str) -> ScriptError | None:
    """Scripts signal refusals with `redis.error_reply('TQ:CODE:detail')`."""
    # Redis prefixes the script's location on some versions; the code is what counts.
    tail = message.split("TQ:", 1)
    if len(tail) != 2:
        return None
    match = _ERROR_REPLY.match("TQ:" + tail[1].strip())
    if match is None:
        return None
    return ScriptError(match["code"], (match["detail"] or "").strip())


class ScriptRegistry:
    """Scripts registered on one client; `run` checks the KEYS count against the header."""

    def __init__(self, client: RedisClient) -> None:
        self.client = client
        self.sources = load_sources()
        # Parsed once here: `run` is on every hot path.
        self._key_counts = {name: source.key_count for name, source in self.sources.items()}
        self._scripts: dict[str, AsyncScript] = {
            name: client.register_script(source.text)  # type: ignore[arg-type]
            for name, source in self.sources.items()
        }

    def check_keys(self, name: str, keys: list[str]) -> None:
        expected = self._key_counts[name]
        if len(keys) != expected:
            raise ValueError(f"{name} takes {expected} KEYS per its header, was given {len(keys)}")

    def sha(self, name: str) -> str:
        """The script's SHA1, as EVALSHA wants it (for pipelines: core.script_batching)."""
        return str(self._scripts[name].sha)

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        self.check_keys(name, keys)
        try:
            return await self._scripts[name](keys=keys, args=args)
        except ResponseError as exc:
            script_error = parse_script_error(str(exc))
            if script_error is None:
                raise
            raise script_error from exc
