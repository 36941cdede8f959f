"""Codes for the 2FA tests from pyotp, an RFC 6238 implementation that is not ours.

The product computes codes with its own twenty lines (accounts/totp.py); a test that
used those to make its codes would pass with any bug they share with themselves.
"""

from __future__ import annotations

import time

import pyotp

STEP_S = 30


def code(secret: str, steps: int = 0) -> str:
    """The code `steps` time steps from now (-1, 0 and +1 are all accepted)."""
    return str(pyotp.TOTP(secret).at(time.time() + steps * STEP_S))


def clear_of_step_edge(margin_s: float = 3.0) -> None:
    """Wait out the end of a step, so "now" is the same step for the test and the server
    across the next few requests (a code for step -1 would otherwise age out)."""
    left = STEP_S - time.time() % STEP_S
    if left < margin_s:
        time.sleep(left + 0.05)
