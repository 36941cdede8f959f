"""Every Redis key TicketQ uses, built here and nowhere else.

All keys of one drop share the hash tag `{ev:<drop_id>}` so that each Lua script
touches a single slot and runs unchanged on Redis Cluster (ARCHITECTURE.md).
A drop sells one event's tiers, so inventory keys live under the drop's tag too:
a hold (stock + queue pass) is then one atomic script on one slot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

PREFIX = "tq"


@dataclass(frozen=True)
class DropKeys:
    drop_id: int

    @property
    def tag(self) -> str:
        return f"{PREFIX}:{{ev:{self.drop_id}}}"

    def key(self, name: str) -> str:
        return f"{self.tag}:{name}"

    # --- waiting room -------------------------------------------------------
    @property
    def meta(self) -> str:
        """HASH: drop configuration and counters (opens_at_ms, state, admitted, ...)."""
        return self.key("meta")

    @property
    def prequeue(self) -> str:
        """SET of fans who joined before opens_at; shuffled once into the line."""
        return self.key("prequeue")

    @property
    def line(self) -> str:
        """ZSET member=fan score=sequence number: the FIFO line."""
        return self.key("line")

    @property
    def fan_seq(self) -> str:
        """HASH fan -> '<seq>:<last heartbeat ms>' ('pre:<ms>' in the pre-queue): a fan's
        place and presence in one short value (lua/includes/fan_place.lua owns the format)."""
        return self.key("fanseq")

    @property
    def active(self) -> str:
        """ZSET fan -> admission pass expiry (ms): fans inside purchase."""
        return self.key("active")

    @property
    def passes(self) -> str:
        """HASH fan -> id of the fan's current admission pass (revocation = delete)."""
        return self.key("passes")

    @property
    def admissions(self) -> str:
        """ZSET of admission timestamps, for the observed admission rate."""
        return self.key("admissions")

    @property
    def lease(self) -> str:
        """STRING: which worker currently paces this drop (SET NX PX)."""
        return self.key("lease")

    @property
    def departures(self) -> str:
        """LIST of sequence numbers of fans who left the line, in order (position deltas)."""
        return self.key("departures")

    # --- inventory -----------------------------------------------------------
    def stock(self, tier_id: int) -> str:
        """STRING integer: tickets of the tier still available to hold."""
        return self.key(f"stock:{tier_id}")

    @property
    def stock_hash(self) -> str:
        """HASH tier_id -> available stock (all tiers of the drop in one key)."""
        return self.key("stock")

    @property
    def fan_counts(self) -> str:
        """HASH 'fan:tier' -> tickets the fan holds or bought in the tier."""
        return self.key("fancount")

    @property
    def holds(self) -> str:
        """HASH hold_id -> JSON of the hold (fan, items, expiry)."""
        return self.key("holds")

    @property
    def hold_expiry(self) -> str:
        """ZSET hold_id -> expiry (ms), swept by the worker and lazily."""
        return self.key("holdexp")

    def solved_challenge(self, challenge_id: str) -> str:
        """STRING, set NX once a proof-of-work challenge was used to join (a replay finds it);
        expires with the challenge (queue_engine/challenges.py)."""
        return self.key(f"pow:{challenge_id}")


# The KEYS of every drop script, in the order of its lua/ header (a contract test reads
# each header and compares). Queue and inventory wrappers both get theirs from here.
SCRIPT_KEYS: dict[str, Callable[[DropKeys], list[str]]] = {
    # waiting room
    "join_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq, k.active, k.passes],
    "open_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq],
    "heartbeat_fan": lambda k: [k.line, k.fan_seq],
    "leave_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq, k.departures],
    "sweep_stale": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq, k.departures],
    "admit_batch": lambda k: [k.meta, k.line, k.fan_seq, k.active, k.passes, k.admissions,
                              k.prequeue, k.departures],
    "end_pass": lambda k: [k.meta, k.active, k.passes],
    "expire_passes": lambda k: [k.active, k.passes],
    "read_positions": lambda k: [k.meta, k.line, k.prequeue, k.active, k.admissions,
                                 k.departures],
    "read_fans": lambda k: [k.meta, k.line, k.fan_seq, k.active, k.passes],
    "take_lease": lambda k: [k.lease],
    "release_lease": lambda k: [k.lease],
    # inventory gate
    "reserve_hold": lambda k: [k.stock_hash, k.fan_counts, k.holds, k.hold_expiry, k.active,
                               k.passes, k.meta],
    "release_hold": lambda k: [k.stock_hash, k.fan_counts, k.holds, k.hold_expiry, k.meta],
    "convert_hold": lambda k: [k.holds, k.hold_expiry, k.meta],
    "finish_hold": lambda k: [k.holds, k.fan_counts],
    "set_stock": lambda k: [k.stock_hash, k.fan_counts, k.holds, k.hold_expiry, k.meta],
}


@functools.lru_cache(maxsize=8192)
def script_keys(name: str, drop_id: int) -> tuple[str, ...]:
    """KEYS built once per drop and script: on a hot path (a join herd) the key strings
    would otherwise be rebuilt on every call."""
    return tuple(SCRIPT_KEYS[name](DropKeys(drop_id)))


def drop_keys(drop_id: int) -> DropKeys:
    return DropKeys(drop_id)


# Keys outside any drop (not used by Lua scripts).
OPEN_DROPS = f"{PREFIX}:drops:open"


def account_revocations(user_id: int) -> str:
    """HASH of one account's revoked sign-in sessions (accounts/sessions.py): field `before`
    -> ms (sessions started at or before it are revoked) and `<session id>` -> "0" revoked or
    "1" kept despite `before`. Expires one token lifetime after its last write."""
    return f"{PREFIX}:{{acct:{user_id}}}:revoked"


def revocations_restored_marker() -> str:
    """STRING, no expiry: set once the accounts' revocations have been written back from
    Postgres (accounts/revocation_restore.py). Missing means this Redis lost its data."""
    return f"{PREFIX}:accounts:revocations-restored"


def email_change_pending(user_id: int) -> str:
    """STRING: the address one account asked to move to (accounts/email_change.py), until
    its link is confirmed (GETDEL) or expires. A newer request replaces it."""
    return f"{PREFIX}:{{acct:{user_id}}}:email-change"


def oidc_flow(state: str) -> str:
    """STRING: one OpenID Connect sign-in attempt (accounts/oidc.py), JSON, taken once by
    the callback (GETDEL); expires with the attempt. `state` is the URL-safe random state."""
    return f"{PREFIX}:oidc:flow:{state}"


def oidc_seen_id_token(digest: str) -> str:
    """STRING: an ID token (by its SHA-256) already used to sign in; kept until it expires."""
    return f"{PREFIX}:oidc:seen:{digest}"


def totp_challenge_used(user_id: int, nonce: str) -> str:
    """STRING set (NX) when a sign-in challenge is answered (accounts/second_factor.py), so
    each signs in once; expires with the challenge."""
    return f"{PREFIX}:{{acct:{user_id}}}:totp-challenge:{nonce}"


_RATE_SCOPE = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True)
class RateKey:
    """One subject of one rate limit (core.rate_limits), e.g. ("scan-device", device_id)
    or, for the sign-in limits, ("signin-ip", "203.0.113.7").

    `scope` names the rule ([a-z0-9-], no colon, so no two (scope, subject) pairs
    make the same key); `subject` is any string: the key is the only one its script
    touches, so a brace in it cannot split a script across slots. Callers keep
    subjects short (an id, an address, a digest of an email), never raw request bodies.
    """

    scope: str
    subject: str
    # Another object's key prefix to live under, e.g. a drop's `DropKeys(id).tag` for the
    # per-drop join limits: their counters then go wherever the drop's keys go.
    home: str | None = None

    def __post_init__(self) -> None:
        if _RATE_SCOPE.fullmatch(self.scope) is None:
            raise ValueError(f"rate-limit scope must be [a-z0-9-]+, got {self.scope!r}")

    @property
    def tag(self) -> str:
        """Every window of one subject shares this hash tag, so they live on one slot."""
        if self.home is not None:
            return f"{self.home}:rl:{self.scope}:{self.subject}"
        return f"{PREFIX}:{{rl:{self.scope}:{self.subject}}}"

    def window(self, index: int) -> str:
        """STRING counter: hits in fixed window number `index` (now_ms // window_ms)."""
        return f"{self.tag}:{index}"
