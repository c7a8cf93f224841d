"""TOTP multi-factor (RFC 6238, 30-second steps, 6 digits, pyotp): enrol, prove, then every sign-in asks.

Enrolment keeps the new secret aside until a code from it comes back, so a half-finished set-up never locks a
person out. A code is accepted for the current step and one either side (clock drift), and once only: the last
accepted step is stored and a code must be for a later one (a conditional write), so a code seen over a
shoulder cannot be replayed within its minute.
"""

from __future__ import annotations

from typing import Protocol

import pyotp

from mantra.auth.accounts import Credentials
from mantra.clock import Clock
from mantra.domain import Frozen, User
from mantra.errors import Conflict, Invalid

STEP_S = 30
ISSUER = "Trade Mantra"


class MfaStore(Protocol):
    def credentials_of(self, user_id: str) -> Credentials | None: ...
    def set_pending_mfa(self, user_id: str, secret: str) -> None: ...
    def enable_mfa(self, user_id: str, secret: str, at_ms: int, step: int) -> bool:
        """Turn on ``secret`` if it is still the pending one."""
        ...

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used, if it is later than the last one used."""
        ...


class TotpEnrollment(Frozen):
    secret: str
    otpauth_uri: str


def matching_step(secret: str, code: str, now_ms: int) -> int | None:
    """The time step ``code`` belongs to (now, or one either side), or None."""
    code = code.strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp, now_step = pyotp.TOTP(secret), now_ms // 1000 // STEP_S
    for step in (now_step, now_step - 1, now_step + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_S), code):
            return step
    return None


class Mfa:
    def __init__(self, store: MfaStore, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def enroll(self, user: User) -> TotpEnrollment:
        found = self._store.credentials_of(user.user_id)
        if found is not None and found.mfa_secret is not None:
            raise Conflict("two-factor is on already")
        secret = pyotp.random_base32()
        self._store.set_pending_mfa(user.user_id, secret)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
        return TotpEnrollment(secret=secret, otpauth_uri=uri)

    def confirm(self, user: User, code: str) -> None:
        """Turn two-factor on with a code from the enrolled secret."""
        found = self._store.credentials_of(user.user_id)
        if found is None or found.mfa_pending_secret is None:
            if found is not None and found.mfa_secret is not None:
                raise Conflict("two-factor is on already")
            raise Invalid("code: no authenticator is being set up; start with POST /api/me/mfa/totp")
        now = self._clock.now_ms()
        step = matching_step(found.mfa_pending_secret, code, now)
        if step is None:
            raise Invalid("code: not the code your authenticator shows now; check the phone's clock")
        if not self._store.enable_mfa(user.user_id, found.mfa_pending_secret, now, step):
            raise Conflict("code: the set-up was restarted meanwhile; use the newest secret")

    def check(self, found: Credentials, code: str | None) -> bool:
        """Sign-in's second factor: True if ``code`` is a fresh code of the account's secret."""
        if found.mfa_secret is None:
            return True
        if not code:
            return False
        step = matching_step(found.mfa_secret, code, self._clock.now_ms())
        if step is None or (found.mfa_last_step is not None and step <= found.mfa_last_step):
            return False
        return self._store.use_totp_step(found.user.user_id, step)
