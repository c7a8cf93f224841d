"""The rules every code sent to prove an address shares (phone numbers in ``alerts.phone``, e-mail addresses in
``auth.codes``): six digits kept only as a salted hash, and at most one new code a minute, five a day."""

from __future__ import annotations

import secrets
from typing import Protocol

from mantra.errors import RateLimited

CODE_DIGITS = 6
RESEND_AFTER_MS = 60_000
SENDS_PER_DAY = 5
DAY_MS = 86_400_000


class SentBefore(Protocol):
    """What a stored code remembers of its sending."""

    @property
    def sent_ms(self) -> int: ...
    @property
    def sends(self) -> int: ...
    @property
    def window_start_ms(self) -> int: ...


def send_window(previous: SentBefore | None, now_ms: int) -> tuple[int, int]:
    """(start of the 24-hour window, codes sent in it counting this one) for a new code at ``now_ms``;
    429 when the last code went out under a minute ago or the day's codes are used up."""
    window_start, sends = now_ms, 1
    if previous is None:
        return window_start, sends
    if now_ms < previous.sent_ms + RESEND_AFTER_MS:
        wait_s = -(-(previous.sent_ms + RESEND_AFTER_MS - now_ms) // 1000)
        raise RateLimited(
            f"a code was sent less than a minute ago; ask again in {wait_s} s",
            SENDS_PER_DAY,
            (previous.sent_ms + RESEND_AFTER_MS) // 1000,
            wait_s,
        )
    if now_ms < previous.window_start_ms + DAY_MS:
        window_start, sends = previous.window_start_ms, previous.sends + 1
    if sends > SENDS_PER_DAY:
        reset_ms = previous.window_start_ms + DAY_MS
        raise RateLimited(
            f"{SENDS_PER_DAY} codes were sent in the last 24 hours; try again later",
            SENDS_PER_DAY,
            reset_ms // 1000,
            -(-(reset_ms - now_ms) // 1000),
        )
    return window_start, sends


def new_code() -> tuple[str, str]:
    """(a fresh code, the salt its hash is made with)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}", secrets.token_hex(16)
