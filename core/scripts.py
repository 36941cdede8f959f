"""The one registry of Lua scripts: nothing else in TicketQ calls EVAL.

Each file in `lua/` is one atomic operation, `verb_noun.lua`, opening with a
contract header (see ../shared/STYLE.md) that lists KEYS, ARGV and returns.
Scripts are loaded with importlib.resources and registered once per client with
redis-py's `register_script` (EVALSHA, falling back to EVAL on NOSCRIPT).
Typed wrappers in the domain packages call `run_script`, which builds the KEYS in the
header's order (core.redis_keys.script_keys) and turns `TQ:` refusals into exceptions
(core.script_errors).

Rules several scripts share (the drop's phase, the sell-out state) live once in
`lua/includes/<name>.lua`; a script line `-- @include <name>` is replaced by that file
when the script is loaded (as BullMQ does), after the header, so each script stays one
self-contained EVALSHA and its header stays the contract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError

from core.redis_client import RedisClient
from core.redis_keys import script_keys
from core.script_errors import refusal

_KEY_LINE = re.compile(r"^\s*KEYS\[(\d+)\]", re.MULTILINE)
_ARGV_LINE = re.compile(r"ARGV\[(\d+)\]")
_ERROR_REPLY = re.compile(r"^(?:ERR )?TQ:(?P<code>[A-Z_]+)(?::(?P<detail>.*))?$")
_INCLUDE_LINE = re.compile(r"^-- @include ([a-z_]+)[ \t]*$", re.MULTILINE)


def include_source(name: str) -> str:
    path = resources.files("lua").joinpath("includes", f"{name}.lua")
    if not path.is_file():
        raise ValueError(f"-- @include {name}: no lua/includes/{name}.lua")
    return path.read_text(encoding="utf-8")


def splice_includes(text: str) -> str:
    """Replace each `-- @include name` line by lua/includes/name.lua (each file once;
    an include may include another)."""
    seen: set[str] = set()

    def expand(match: re.Match[str]) -> str:
        name = match[1]
        if name in seen:
            return f"-- (lua/includes/{name}.lua already included)"
        seen.add(name)
        return _INCLUDE_LINE.sub(expand, include_source(name).rstrip("\n"))

    return _INCLUDE_LINE.sub(expand, text)


@dataclass(frozen=True)
class ScriptSource:
    name: str
    text: str  # as written in lua/, with its `-- @include` lines

    @property
    def compiled(self) -> str:
        """What Redis runs: the text with its includes spliced in."""
        return splice_includes(self.text)

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

    code: str
    detail: str

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
            name: client.register_script(source.compiled)  # type: ignore[arg-type]
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


class ScriptRunner(Protocol):
    """A ScriptRegistry, or a ScriptBatcher in front of one (core.script_batching)."""

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any: ...


async def run_script(
    scripts: ScriptRunner, name: str, drop_id: int, args: Sequence[object]
) -> Any:
    """Run one drop's script with its KEYS in header order, turning `TQ:` refusals into the
    exceptions of core.script_errors. Every typed wrapper (queue and inventory) calls this."""
    try:
        return await scripts.run(name, list(script_keys(name, drop_id)), list(args))
    except ScriptError as exc:
        raise refusal(exc) from exc


def reply_text(value: object) -> str:
    """Redis replies are bytes unless the client decodes them."""
    return value.decode() if isinstance(value, bytes) else str(value)
