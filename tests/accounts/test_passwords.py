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
