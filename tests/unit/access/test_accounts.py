"""Accounts a person opens: sign-up, the e-mailed code, sign-in, password reset and e-mail change (fakes)."""

from __future__ import annotations

import pytest
import timebase
from account_fakes import accounts_service
from mantra.auth.accounts import PENDING_HOLD_MS, SIGNIN_FAILURES, password_problem
from mantra.clock import ManualClock
from mantra.errors import Conflict, Invalid, LimitExceeded, RateLimited, Unauthorized

GOOD = "Nifty-50-at-Dawn"


@pytest.fixture
def world():
    clock = ManualClock(timebase.SESSION_10AM)
    service, store, mail, attempts = accounts_service(clock)
    return service, store, mail, attempts, clock


@pytest.mark.parametrize(
    ("password", "lacks"),
    [
        ("Short-1a", "12 characters"),
        ("nouppercase-123", "an upper-case letter"),
        ("NOLOWERCASE-123", "a lower-case letter"),
        ("No-Digits-Here-At-All", "a digit"),
        ("NoSymbols12345", "a symbol"),
    ],
)
def test_a_weak_password_is_refused_naming_what_it_lacks(password: str, lacks: str) -> None:
    problem = password_problem(password)
    assert problem is not None and lacks in problem
    assert password_problem(GOOD) is None


def test_sign_up_emails_a_code_that_confirms_the_account_then_sign_in_works(world) -> None:
    service, store, mail, _, clock = world
    # Given a new sign-up
    done = service.sign_up("Asha Rao", " Asha@Example.in ", GOOD)
    assert done.email == "asha@example.in" and done.code_expires_ms == clock.now + 15 * 60_000
    # Then it is its own tenant on the free plan, and cannot sign in before confirming
    creds = store.credentials("asha@example.in")
    assert creds is not None and creds.pending and creds.user.plan_id == "starter"
    assert creds.user.tenant_id.startswith("tnt_") and creds.user.user_id.startswith("usr_")
    with pytest.raises(Unauthorized, match="confirm your e-mail first"):
        service.sign_in("asha@example.in", GOOD)
    # When the e-mailed code comes back
    code = mail.code_for("asha@example.in")
    assert GOOD not in mail.sent[0]["text"]  # the password is never mailed back
    service.confirm("asha@example.in", code)
    # Then sign-in works, and the code is single-use
    assert service.sign_in("ASHA@example.in", GOOD).user.user_id == creds.user.user_id
    with pytest.raises(Invalid, match="no code is waiting"):
        service.confirm("asha@example.in", code)


def test_a_second_sign_up_with_the_same_email_is_409_confirmed_or_not(world) -> None:
    service, _, mail, _, _ = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    with pytest.raises(Conflict) as pending:
        service.sign_up("Someone", "asha@example.in", GOOD + "x")
    service.confirm("asha@example.in", mail.code_for("asha@example.in"))
    with pytest.raises(Conflict) as confirmed:
        service.sign_up("Someone", "asha@example.in", GOOD + "x")
    assert pending.value.message == confirmed.value.message  # does not tell which


def test_an_unconfirmed_account_releases_its_email_after_a_day(world) -> None:
    service, store, _, _, clock = world
    first = service.sign_up("Squatter", "asha@example.in", GOOD)
    clock.advance(PENDING_HOLD_MS)
    second = service.sign_up("Asha", "asha@example.in", GOOD)
    assert second.user_id != first.user_id and store.credentials_of(first.user_id) is None


def test_codes_expire_after_15_minutes(world) -> None:
    service, _, mail, _, clock = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    clock.advance(15 * 60_000)
    with pytest.raises(Invalid, match="expired"):
        service.confirm("asha@example.in", mail.code_for("asha@example.in"))


def test_five_wrong_codes_spend_the_code_even_the_right_one_then_a_resend_works(world) -> None:
    service, _, mail, _, clock = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    right = mail.code_for("asha@example.in")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(Invalid, match=f"{left} attempts left"):
            service.confirm("asha@example.in", wrong)
    with pytest.raises(Invalid, match="wrong code"):
        service.confirm("asha@example.in", wrong)
    with pytest.raises(LimitExceeded, match="POST /auth/resend"):
        service.confirm("asha@example.in", right)
    # a resend within the minute is refused; after it, a new code works
    with pytest.raises(RateLimited):
        service.resend("asha@example.in")
    clock.advance(60_000)
    service.resend("asha@example.in")
    fresh = mail.code_for("asha@example.in")
    service.confirm("asha@example.in", fresh)


def test_codes_are_stored_hashed(world) -> None:
    service, _, mail, _, _ = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    code = mail.code_for("asha@example.in")
    stored = service._codes._codes.items  # type: ignore[attr-defined]
    assert stored and all(code not in r.model_dump_json() for r in stored.values())


def test_repeated_wrong_passwords_lock_sign_in_for_that_email(world) -> None:
    service, _, mail, _, clock = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    service.confirm("asha@example.in", mail.code_for("asha@example.in"))
    for _ in range(SIGNIN_FAILURES):
        with pytest.raises(Unauthorized):
            service.sign_in("asha@example.in", "Wrong-password-1")
    # even the right password is refused while locked (no oracle for a guesser)
    with pytest.raises(RateLimited) as locked:
        service.sign_in("asha@example.in", GOOD)
    assert locked.value.retry_after_s > 0
    clock.advance(locked.value.retry_after_s * 1000)
    assert service.sign_in("asha@example.in", GOOD).user.email == "asha@example.in"


def test_password_reset_by_emailed_code(world) -> None:
    service, _, mail, _, clock = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    service.confirm("asha@example.in", mail.code_for("asha@example.in"))
    # an unknown e-mail is accepted silently: nothing is sent
    before = len(mail.sent)
    service.forgot("nobody@example.in")
    assert len(mail.sent) == before
    clock.advance(60_000)
    service.forgot("asha@example.in")
    code = mail.code_for("asha@example.in")
    with pytest.raises(Invalid, match="new_password"):
        service.reset("asha@example.in", code, "weak")
    service.reset("asha@example.in", code, "Bank-Nifty-Dusk-9")
    with pytest.raises(Unauthorized):
        service.sign_in("asha@example.in", GOOD)
    assert service.sign_in("asha@example.in", "Bank-Nifty-Dusk-9")


def test_email_change_needs_the_password_and_the_code_sent_to_the_new_address(world) -> None:
    service, store, mail, _, _ = world
    service.sign_up("Asha", "asha@example.in", GOOD)
    service.sign_up("Ravi", "ravi@example.in", GOOD)
    service.confirm("asha@example.in", mail.code_for("asha@example.in"))
    user = service.sign_in("asha@example.in", GOOD).user
    with pytest.raises(Unauthorized, match="password"):
        service.request_email_change(user, "asha.rao@example.in", "Wrong-password-1")
    with pytest.raises(Conflict):
        service.request_email_change(user, "ravi@example.in", GOOD)
    service.request_email_change(user, "Asha.Rao@example.in", GOOD)
    assert service.confirm_email_change(user, mail.code_for("asha.rao@example.in")) == "asha.rao@example.in"
    assert service.sign_in("asha.rao@example.in", GOOD).user.user_id == user.user_id
    assert store.credentials("asha@example.in") is None
