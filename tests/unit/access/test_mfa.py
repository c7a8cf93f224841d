"""TOTP two-factor: enrol, confirm with a code, then sign-in needs a fresh code (no replays)."""

from __future__ import annotations

import pyotp
import pytest
import timebase
from account_fakes import accounts_service
from mantra.auth.accounts import SIGNIN_FAILURES
from mantra.auth.mfa import STEP_S, Mfa
from mantra.clock import ManualClock
from mantra.errors import Conflict, Invalid, RateLimited, Unauthorized

PASSWORD = "Nifty-50-at-Dawn"


@pytest.fixture
def world():
    clock = ManualClock(timebase.SESSION_10AM)
    accounts, store, mail, _ = accounts_service(clock)
    accounts.sign_up("Asha", "asha@example.in", PASSWORD)
    accounts.confirm("asha@example.in", mail.code_for("asha@example.in"))
    user = accounts.sign_in("asha@example.in", PASSWORD).user
    return accounts, Mfa(store, clock), store, user, clock


def _code(secret: str, clock: ManualClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now // 1000 + steps * STEP_S)


def test_two_factor_is_on_only_after_a_code_from_the_enrolled_secret(world) -> None:
    accounts, mfa, store, user, clock = world
    enrolled = mfa.enroll(user)
    assert enrolled.otpauth_uri.startswith("otpauth://totp/") and enrolled.secret in enrolled.otpauth_uri
    # a half-finished set-up changes nothing at sign-in
    assert accounts.sign_in("asha@example.in", PASSWORD)
    with pytest.raises(Invalid, match="code"):
        mfa.confirm(user, "000000" if _code(enrolled.secret, clock) != "000000" else "111111")
    mfa.confirm(user, _code(enrolled.secret, clock))
    creds = store.credentials_of(user.user_id)
    assert creds is not None and creds.user.mfa_enabled and creds.mfa_secret == enrolled.secret
    with pytest.raises(Conflict):
        mfa.enroll(creds.user)


def test_once_on_sign_in_needs_a_fresh_totp_and_a_code_works_once(world) -> None:
    accounts, mfa, _, user, clock = world
    secret = mfa.enroll(user).secret
    mfa.confirm(user, _code(secret, clock))
    # Without a code: 401 naming the totp field
    with pytest.raises(Unauthorized, match="totp: two-factor is on"):
        accounts.sign_in("asha@example.in", PASSWORD)
    # The code used to turn it on is spent; the next step's code works, once
    with pytest.raises(Unauthorized, match="totp: not the code"):
        accounts.sign_in("asha@example.in", PASSWORD, _code(secret, clock))
    clock.advance(STEP_S * 1000)
    fresh = _code(secret, clock)
    assert accounts.sign_in("asha@example.in", PASSWORD, fresh).user.user_id == user.user_id
    with pytest.raises(Unauthorized, match="totp"):
        accounts.sign_in("asha@example.in", PASSWORD, fresh)
    # A code one step behind (clock drift) is accepted if not used yet
    clock.advance(2 * STEP_S * 1000)
    assert accounts.sign_in("asha@example.in", PASSWORD, _code(secret, clock, steps=-1))


def test_wrong_totp_codes_count_towards_the_sign_in_lock(world) -> None:
    accounts, mfa, _, user, clock = world
    secret = mfa.enroll(user).secret
    mfa.confirm(user, _code(secret, clock))
    clock.advance(STEP_S * 1000)
    right = _code(secret, clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(SIGNIN_FAILURES):
        with pytest.raises(Unauthorized):
            accounts.sign_in("asha@example.in", PASSWORD, wrong)
    with pytest.raises(RateLimited):
        accounts.sign_in("asha@example.in", PASSWORD, right)
