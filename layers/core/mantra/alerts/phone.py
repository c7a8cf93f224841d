"""Phone verification: SMS alerts go only to a number its owner proved they hold.

``start`` sends a 6-digit code by SMS and keeps only its salted hash, with an expiry; ``confirm`` checks a
code, spending one of a few attempts first (a conditional write, so parallel guesses cannot exceed them), and
on a match consumes the code (a second use finds nothing) and saves the number as verified. New codes for a user
are rate-limited: one a minute, five a day. A number changed any other way is not verified.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from mantra.alerts.sms import SmsKind
from mantra.clock import Clock
from mantra.domain import Frozen, Preferences, User
from mantra.errors import Invalid, LimitExceeded, RateLimited
from mantra.one_time_codes import RESEND_AFTER_MS, SENDS_PER_DAY, new_code, send_window
from mantra.ports import UserRepository


class PhoneChallenge(Frozen):
    user_id: str
    phone_e164: str
    code_hash: str
    salt: str
    expires_ms: int
    attempts: int = 0
    sent_ms: int
    sends: int = 1  # codes sent since window_start_ms
    window_start_ms: int


class PhoneChallenges(Protocol):
    def get(self, user_id: str) -> PhoneChallenge | None: ...
    def put(self, challenge: PhoneChallenge, previous_sent_ms: int | None) -> bool:
        """Store it if the user's challenge is still the one read (sent at ``previous_sent_ms``, or none)."""
        ...

    def spend_attempt(self, user_id: str, code_hash: str, max_attempts: int) -> bool:
        """One attempt more on this code, if it is still the user's and has attempts left."""
        ...

    def consume(self, user_id: str, code_hash: str) -> bool:
        """Remove the challenge if it is still this code: True once, for one caller."""
        ...

    def delete(self, user_id: str) -> None: ...


class CodeSender(Protocol):
    def send_sms(self, phone_e164: str, text: str, kind: SmsKind = SmsKind.ALERT) -> str: ...


def hash_code(challenge_salt: str, user_id: str, phone_e164: str, code: str) -> str:
    message = f"{user_id}|{phone_e164}|{code}".encode()
    return hmac.new(challenge_salt.encode(), message, hashlib.sha256).hexdigest()


class PhoneStarted(Frozen):
    phone_e164: str
    expires_ms: int
    resend_after_ms: int


class PhoneVerification:
    def __init__(
        self,
        challenges: PhoneChallenges,
        users: UserRepository,
        sender: CodeSender,
        clock: Clock,
        code_ttl_s: int = 600,
        max_attempts: int = 5,
    ) -> None:
        self._challenges, self._users, self._sender, self._clock = challenges, users, sender, clock
        self._ttl_ms, self._max_attempts = code_ttl_s * 1000, max_attempts

    def start(self, user: User, phone_e164: str) -> PhoneStarted:
        """Send a new code to ``phone_e164``; the number is saved only when the code comes back."""
        now = self._clock.now_ms()
        previous = self._challenges.get(user.user_id)
        window_start, sends = send_window(previous, now)
        code, salt = new_code()
        challenge = PhoneChallenge(
            user_id=user.user_id,
            phone_e164=phone_e164,
            code_hash=hash_code(salt, user.user_id, phone_e164, code),
            salt=salt,
            expires_ms=now + self._ttl_ms,
            sent_ms=now,
            sends=sends,
            window_start_ms=window_start,
        )
        if not self._challenges.put(challenge, previous.sent_ms if previous else None):
            raise RateLimited("a code is being sent already; ask again in a minute", SENDS_PER_DAY, 0, 60)
        minutes = self._ttl_ms // 60_000
        text = f"{code} is your Trade Mantra verification code. It expires in {minutes} minutes."
        try:
            self._sender.send_sms(phone_e164, text, SmsKind.CODE)
        except Exception:
            self._challenges.delete(user.user_id)  # nothing went out: no code to wait for
            raise
        return PhoneStarted(
            phone_e164=phone_e164, expires_ms=challenge.expires_ms, resend_after_ms=now + RESEND_AFTER_MS
        )

    def confirm(self, user: User, code: str) -> Preferences:
        """The number is the user's, verified, if ``code`` is the one sent and still valid."""
        now = self._clock.now_ms()
        challenge = self._challenges.get(user.user_id)
        if challenge is None:
            raise Invalid("code: no code is waiting; ask for one with POST /api/me/phone")
        if now >= challenge.expires_ms:
            raise Invalid("code: this code has expired; ask for a new one with POST /api/me/phone")
        if not self._challenges.spend_attempt(user.user_id, challenge.code_hash, self._max_attempts):
            raise LimitExceeded("code: too many wrong codes; ask for a new one with POST /api/me/phone")
        given = hash_code(challenge.salt, user.user_id, challenge.phone_e164, code.strip())
        if not hmac.compare_digest(given, challenge.code_hash):
            left = self._max_attempts - challenge.attempts - 1
            raise Invalid(f"code: not the code we sent; {left} attempts left" if left else "code: wrong code")
        if not self._challenges.consume(user.user_id, challenge.code_hash):
            raise Invalid("code: this code was used already; ask for a new one with POST /api/me/phone")
        prefs = self._users.preferences(user.user_id)
        verified = prefs.model_copy(update={"phone_e164": challenge.phone_e164, "phone_verified_ms": now})
        self._users.save_preferences(user.user_id, verified)
        return verified


def keep_verification(current: Preferences, wanted: Preferences) -> Preferences:
    """Preferences as the user sets them: the number on file keeps its state (verified or not), no number is
    no number, and a different number is refused (it must be verified first)."""
    if wanted.phone_e164 is None:
        return wanted.model_copy(update={"phone_verified_ms": None})
    if wanted.phone_e164 != current.phone_e164:
        raise Invalid(
            "phone_e164: a new number is verified first: POST /api/me/phone sends it a code, "
            "POST /api/me/phone/verify confirms it"
        )
    return wanted.model_copy(update={"phone_verified_ms": current.phone_verified_ms})
