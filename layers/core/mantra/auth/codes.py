"""Codes e-mailed to prove an address: sign-up confirmation, password reset, e-mail change.

A code is 6 digits, kept only as a salted HMAC with its expiry (15 minutes). Checking one spends an attempt
first (a conditional write, so parallel guesses cannot exceed 5); the right code is consumed (a second use finds
nothing). New codes for one purpose and user are rate-limited: one a minute, five a day. The same rules as
phone verification (``alerts.phone``), for e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import Frozen
from mantra.errors import Invalid, LimitExceeded, RateLimited
from mantra.one_time_codes import RESEND_AFTER_MS, SENDS_PER_DAY, new_code, send_window
from mantra.ports import EmailSender

SPENT = "spent"  # a used code's hash: the record stays, so the send limits span codes


class Purpose(StrEnum):
    SIGNUP = "signup"
    RESET = "reset"
    EMAIL = "email"


# what each e-mail says, and where a fresh code comes from
_MAIL = {
    Purpose.SIGNUP: ("Confirm your Trade Mantra account", "confirms your e-mail", "POST /auth/resend"),
    Purpose.RESET: ("Reset your Trade Mantra password", "resets your password", "POST /auth/password/forgot"),
    Purpose.EMAIL: ("Confirm your new e-mail address", "moves your account here", "POST /api/me/email"),
}


class EmailCode(Frozen):
    purpose: Purpose
    user_id: str
    email: str
    code_hash: str
    salt: str
    expires_ms: int
    attempts: int = 0
    sent_ms: int
    sends: int = 1  # codes sent since window_start_ms
    window_start_ms: int

    @property
    def subject(self) -> str:
        return subject(self.purpose, self.user_id)


def subject(purpose: Purpose, user_id: str) -> str:
    return f"{purpose.value}#{user_id}"


class EmailCodes(Protocol):
    def get(self, subject: str) -> EmailCode | None: ...
    def put(self, code: EmailCode, previous_sent_ms: int | None) -> bool:
        """Store it if the subject's code is still the one read (sent at ``previous_sent_ms``, or none)."""
        ...

    def spend_attempt(self, subject: str, code_hash: str, max_attempts: int) -> bool:
        """One attempt more on this code, if it is still the subject's and has attempts left."""
        ...

    def consume(self, subject: str, code_hash: str) -> bool:
        """Mark the code spent (its hash becomes ``SPENT``) if it is still this one: True once, for one caller."""
        ...

    def delete(self, subject: str) -> None: ...


def hash_code(salt: str, purpose: Purpose, user_id: str, email: str, code: str) -> str:
    message = f"{purpose.value}|{user_id}|{email}|{code}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()


class CodeSent(Frozen):
    email: str
    expires_ms: int
    resend_after_ms: int


class CodeBook:
    def __init__(
        self,
        codes: EmailCodes,
        mail: EmailSender,
        clock: Clock,
        ttl_s: int = 900,
        max_attempts: int = 5,
    ) -> None:
        self._codes, self._mail, self._clock = codes, mail, clock
        self._ttl_ms, self._max_attempts = ttl_s * 1000, max_attempts

    def send(self, purpose: Purpose, user_id: str, email: str) -> CodeSent:
        """E-mail a new code to ``email``; any earlier code for this purpose stops working."""
        now = self._clock.now_ms()
        previous = self._codes.get(subject(purpose, user_id))
        window_start, sends = send_window(previous, now)
        code, salt = new_code()
        record = EmailCode(
            purpose=purpose,
            user_id=user_id,
            email=email,
            code_hash=hash_code(salt, purpose, user_id, email, code),
            salt=salt,
            expires_ms=now + self._ttl_ms,
            sent_ms=now,
            sends=sends,
            window_start_ms=window_start,
        )
        if not self._codes.put(record, previous.sent_ms if previous else None):
            raise RateLimited("a code is being sent already; ask again in a minute", SENDS_PER_DAY, 0, 60)
        title, effect, _ = _MAIL[purpose]
        minutes = self._ttl_ms // 60_000
        text = (
            f"Your Trade Mantra code is {code}\n\nEntering it {effect}. It expires in {minutes} minutes and "
            "works once.\nIf you did not ask for it, ignore this e-mail: nothing changes without the code.\n"
        )
        try:
            self._mail.send(email, title, text, {"X-Mantra-Purpose": purpose.value})
        except Exception:
            self._codes.delete(record.subject)  # nothing went out: no code to wait for
            raise
        return CodeSent(email=email, expires_ms=record.expires_ms, resend_after_ms=now + RESEND_AFTER_MS)

    def redeem(self, purpose: Purpose, user_id: str, code: str) -> EmailCode:
        """The code's record, consumed, if ``code`` is the one sent and still valid; else 422 (or 403 once
        the attempts are spent) saying what to do."""
        again = _MAIL[purpose][2]
        now = self._clock.now_ms()
        record = self._codes.get(subject(purpose, user_id))
        if record is None:
            raise Invalid(f"code: no code is waiting; ask for one with {again}")
        if record.code_hash == SPENT:
            raise Invalid(f"code: this code was used already; ask for a new one with {again}")
        if now >= record.expires_ms:
            raise Invalid(f"code: this code has expired; ask for a new one with {again}")
        if not self._codes.spend_attempt(record.subject, record.code_hash, self._max_attempts):
            raise LimitExceeded(f"code: too many wrong codes; ask for a new one with {again}")
        given = hash_code(record.salt, purpose, user_id, record.email, code.strip())
        if not hmac.compare_digest(given, record.code_hash):
            left = self._max_attempts - record.attempts - 1
            raise Invalid(
                f"code: not the code we sent; {left} attempts left"
                if left
                else f"code: wrong code; ask for a new one with {again}"
            )
        if not self._codes.consume(record.subject, record.code_hash):
            raise Invalid(f"code: this code was used already; ask for a new one with {again}")
        return record
