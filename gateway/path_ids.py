"""Path convertors for object ids: `{drop_id:id}` matches only what a Postgres bigint id
can be, so anything else is a 404 before a handler runs (no `int()` of a Unicode digit,
no 2**63 reaching a bigint bind).

UUID ids (holds, orders, tickets, lottery entries) use Starlette's own `uuid` convertor.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**63 - 1  # Postgres bigint, the type of every integer id


def decimal_range_regex(limit: int) -> str:
    """A regex matching exactly the decimal numbers 1..limit, ASCII digits, no leading zero.

    A convertor cannot refuse a value once its regex matched (Starlette would answer 500),
    so the bound has to live in the regex itself.
    """
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else None
    same_length = []
    for index, digit in enumerate(digits):
        lowest = 1 if index == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - index - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            same_length.append(f"{digits[:index]}[{lowest}-{int(digit) - 1}]{tail}")
    same_length.append(digits)
    return "(?:" + "|".join(filter(None, [shorter, *same_length])) + ")"


class IdConvertor(Convertor[int]):
    regex = decimal_range_regex(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 1 <= int(value) <= MAX_ID:
            raise ValueError(f"an id is 1..{MAX_ID}, not {value}")
        return str(int(value))


def register() -> None:
    """Idempotent; gateway/__init__.py calls it before any route table is built."""
    register_url_convertor("id", IdConvertor())
