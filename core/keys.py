"""`ticketq keys`: the secrets a production deployment needs, made locally.

- `secret_key`: signs sessions, API tokens, queue tickets and admission passes
  (set it as TICKETQ_SECRET_KEY).
- `ticket_signing.key`: 32 random bytes (hex), the master seed from which the
  scanner part derives each event's Ed25519 ticket-signing key pair.
Files are created with mode 0600 and never overwritten unless `force`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TICKET_SIGNING_KEY = "ticket_signing.key"
SECRET_KEY = "secret_key"


def _write_secret(path: Path, value: str, force: bool) -> bool:
    if path.exists() and not force:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return True


def generate_keys(keys_dir: Path, *, force: bool = False) -> list[str]:
    lines = []
    secret_path = keys_dir / SECRET_KEY
    if _write_secret(secret_path, secrets.token_urlsafe(48), force):
        lines.append(f"wrote {secret_path}")
    else:
        lines.append(f"kept {secret_path} (use --force to replace)")
    signing_path = keys_dir / TICKET_SIGNING_KEY
    if _write_secret(signing_path, secrets.token_hex(32), force):
        lines.append(f"wrote {signing_path}")
    else:
        lines.append(f"kept {signing_path} (use --force to replace)")
    lines.append(f'export TICKETQ_SECRET_KEY="$(cat {secret_path})"')
    return lines


def ticket_signing_seed(keys_dir: Path, *, create: bool) -> bytes:
    """The master seed; development creates one on first use, production must have it."""
    path = keys_dir / TICKET_SIGNING_KEY
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"no ticket signing key at {path}; run `ticketq keys`")
        _write_secret(path, secrets.token_hex(32), force=False)
    return bytes.fromhex(path.read_text().strip())
