"""Password hashes: scrypt with its parameters stored, and a no on anything malformed."""

from __future__ import annotations

import base64
import hashlib

import pytest

from accounts.passwords import DUMMY_HASH, N, P, R, hash_password, verify_password


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)
    assert not verify_password("", stored)
    assert "correct horse" not in stored


def test_the_stored_form_names_scheme_and_parameters_and_salts_each_hash() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second  # a fresh salt each time
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", N, R, P)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32


def test_old_hashes_with_other_parameters_still_verify() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"older", salt=salt, n=2**12, r=8, p=1, dklen=32)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    stored = f"scrypt$4096$8$1${salt_b64}${digest_b64}"
    assert verify_password("older", stored)
    assert not verify_password("newer", stored)


@pytest.mark.parametrize("stored", [
    "", "plain", "bcrypt$16384$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$16384$8$1$c2FsdA==",  # a field short
    "scrypt$many$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$1000$8$1$c2FsdA==$ZGlnZXN0",  # n not a power of two
    "scrypt$1048576$8$1$c2FsdA==$ZGlnZXN0",  # would need 1 GiB: refused, not attempted
    "scrypt$16384$8$1$%%%$ZGlnZXN0",
])
def test_malformed_or_foreign_stored_hashes_are_a_no_not_an_error(stored: str) -> None:
    assert verify_password("anything", stored) is False


def test_the_dummy_hash_used_for_unknown_emails_is_a_real_hash() -> None:
    # Checking a password against it costs a real scrypt run, and nothing matches it.
    assert DUMMY_HASH.startswith(f"scrypt${N}${R}${P}$")
    assert not verify_password("", DUMMY_HASH)


async def test_a_cheap_request_is_served_while_several_sign_ins_hash(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every hash waits until a cheap request has been answered: possible only if hashing
    leaves the event loop free (before the fix each hash blocked it, and this failed)."""
    import asyncio
    import threading

    from tests.support.api import unique_email

    served = threading.Event()
    started: list[bool] = []
    saw_request_served: list[bool] = []
    real_scrypt = hashlib.scrypt

    def scrypt_that_waits(*args: object, **kwargs: object) -> bytes:
        started.append(True)
        # The timeout only bounds how long a broken build takes to fail.
        saw_request_served.append(served.wait(timeout=3))
        return real_scrypt(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "scrypt", scrypt_that_waits)
    sign_ins = [asyncio.ensure_future(client.post(
        "/api/auth/login", json={"email": unique_email(), "password": "guess guess"}))
        for _ in range(4)]
    while len(started) < 4:
        await asyncio.sleep(0.005)
    cheap = await client.get("/api/drops/999999999")
    served.set()
    answers = await asyncio.gather(*sign_ins)
    assert cheap.status_code == 404
    assert [answer.status_code for answer in answers] == [401] * 4
    assert saw_request_served == [True] * 4


async def test_hashing_threads_run_below_the_event_loops_cpu_priority() -> None:
    """A burst of sign-ins must not take the cores the loop serves everyone else from."""
    import asyncio
    import os
    import threading

    from accounts import passwords

    def niceness_of_this_thread() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    loop_niceness = niceness_of_this_thread()
    hashing_niceness = await asyncio.get_running_loop().run_in_executor(
        passwords._hashing, niceness_of_this_thread)
    assert hashing_niceness == max(passwords.HASHING_NICENESS, loop_niceness)
    assert niceness_of_this_thread() == loop_niceness  # the loop's own thread is untouched


async def test_a_sign_in_holds_no_database_connection_while_its_password_hashes(
    client, sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of sign-ins queued for the hashing threads must not hold the pool."""
    from accounts import users
    from tests.support.api import sign_up

    account = await sign_up(client)
    checked_out_while_hashing: list[int] = []
    real_verify = users.verify_password_off_loop
    pool = sessionmaker.kw["bind"].pool

    async def verify_and_count(password: str, stored: str) -> bool:
        checked_out_while_hashing.append(pool.checkedout())
        return await real_verify(password, stored)

    monkeypatch.setattr(users, "verify_password_off_loop", verify_and_count)
    before = pool.checkedout()
    answer = await client.post("/api/auth/login",
                               json={"email": account.email, "password": account.password})
    assert answer.status_code == 200
    assert checked_out_while_hashing == [before]
