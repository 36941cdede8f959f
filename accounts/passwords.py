"""Password hashing with scrypt (memory-hard, in the standard library).

Stored form: `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so parameters can be
raised later and old hashes still verify.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# 2**14 * 8 * 128 bytes = 16 MiB per hash: memory-hard, ~50 ms on a laptop core.
N, R, P = 2**14, 8, 1
DKLEN = 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        actual = hashlib.scrypt(
            password.encode(),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# hashlib.scrypt releases the GIL, so hashing in threads keeps the event loop serving
# everyone else. A pool of its own, small: each hash holds 16 MiB, so a burst of sign-ins
# queues here instead of taking memory without bound or the default executor's threads.
HASHING_THREADS = 4
# ...and below the loop's CPU priority: in a 1,000-fan spike on two cores the sign-ins'
# scrypt took over half of the gateway process's CPU (docs/performance.md); at the loop's
# priority four hashing threads take four fifths of what the process gets, from the
# joins and sockets of everyone else. At nice 10 (weight 110 against the loop's 1024)
# the loop comes first and hashing takes the rest; on an idle core, all of it.
HASHING_NICENESS = 10


def _lower_this_threads_priority() -> None:
    if sys.platform != "linux":  # Linux nices one thread by its id; elsewhere, a process
        return
    thread = threading.get_native_id()
    try:  # never raise it: a process already nicer keeps its niceness
        os.setpriority(os.PRIO_PROCESS, thread,
                       max(HASHING_NICENESS, os.getpriority(os.PRIO_PROCESS, thread)))
    except OSError:  # a sandbox that forbids it: hashing still works, at the loop's priority
        pass


_hashing = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="scrypt",
                              initializer=_lower_this_threads_priority)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing, hash_password, password)


async def verify_password_off_loop(password: str, stored: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _hashing, verify_password, password, stored
    )


# Verifying against this keeps sign-in time the same for unknown emails.
DUMMY_HASH = hash_password(secrets.token_hex(8))
