"""Refresh tokens: rotation, reuse detection that ends the family, logout, and a password reset ending all."""

from __future__ import annotations

import pytest
import timebase
from account_fakes import InMemoryRefreshTokens, accounts_service
from mantra.auth.sessions import Sessions, token_hash
from mantra.clock import ManualClock
from mantra.errors import Unauthorized


@pytest.fixture
def sessions():
    clock = ManualClock(timebase.SESSION_10AM)
    store = InMemoryRefreshTokens()
    return Sessions(store, clock, ttl_s=3600), store, clock


def test_a_refresh_token_rotates_once_and_is_stored_only_as_a_hash(sessions) -> None:
    service, store, _ = sessions
    first = service.start("usr_a")
    assert first not in str(store.items) and token_hash(first) in store.items
    user_id, second = service.rotate(first)
    assert user_id == "usr_a" and second != first
    # the next one works in turn
    assert service.rotate(second)[0] == "usr_a"


def test_reusing_a_spent_token_ends_the_whole_family_but_not_other_sessions(sessions) -> None:
    service, _, _ = sessions
    stolen = service.start("usr_a")
    other_device = service.start("usr_a")
    _, owners = service.rotate(stolen)
    # When the copied (spent) token is presented again
    with pytest.raises(Unauthorized, match="already used"):
        service.rotate(stolen)
    # Then the owner's current token of that family is dead too, and the other sign-in still works
    with pytest.raises(Unauthorized, match="ended"):
        service.rotate(owners)
    assert service.rotate(other_device)[0] == "usr_a"


def test_logout_expiry_and_unknown_tokens_are_refused(sessions) -> None:
    service, _, clock = sessions
    token = service.start("usr_a")
    service.end(token)
    with pytest.raises(Unauthorized, match="ended"):
        service.rotate(token)
    late = service.start("usr_a")
    clock.advance(3600 * 1000)
    with pytest.raises(Unauthorized, match="expired"):
        service.rotate(late)
    with pytest.raises(Unauthorized, match="not a refresh token"):
        service.rotate("tmr_made-up")


def test_a_password_reset_ends_every_session_of_the_account() -> None:
    clock = ManualClock(timebase.SESSION_10AM)
    sessions = Sessions(InMemoryRefreshTokens(), clock)
    accounts, _, mail, _ = accounts_service(clock, sessions=sessions)
    accounts.sign_up("Asha", "asha@example.in", "Nifty-50-at-Dawn")
    accounts.confirm("asha@example.in", mail.code_for("asha@example.in"))
    user = accounts.sign_in("asha@example.in", "Nifty-50-at-Dawn").user
    phone, laptop = sessions.start(user.user_id), sessions.start(user.user_id)
    clock.advance(60_000)
    accounts.forgot("asha@example.in")
    accounts.reset("asha@example.in", mail.code_for("asha@example.in"), "Bank-Nifty-Dusk-9")
    for token in (phone, laptop):
        with pytest.raises(Unauthorized, match="ended"):
            sessions.rotate(token)
