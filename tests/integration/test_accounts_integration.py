"""Accounts over HTTP on DynamoDB Local, with the codes read out of the e-mails the real SMTP sink received."""

from __future__ import annotations

import re
import secrets
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from helpers import until
from mantra.auth.sessions import token_hash
from mantra.devtools.smtp_sink import read_messages
from mantra.settings import Settings
from mantra.store.account_models import AccountCodeItem, RefreshTokenItem
from mantra.store.models import UserItem

PASSWORD = "Nifty-50-at-Dawn"


@pytest.fixture(scope="module")
def api(platform: Settings) -> TestClient:
    from frontend_api.app import create_app

    return TestClient(create_app(platform))


def _code(settings: Settings, to: str, purpose: str, seen: int = 0) -> str:
    """The code in the newest e-mail of ``purpose`` to ``to``, once more than ``seen`` have arrived."""

    def mails() -> list:
        found = [
            m
            for m in read_messages(settings.data_dir / "mail")
            if m["To"] == to and m["X-Mantra-Purpose"] == purpose
        ]
        return found if len(found) > seen else []

    last = sorted(until(mails), key=lambda m: int(m["X-Sink-Received-Ms"]))[-1]
    found = re.search(r"\b(\d{6})\b", last.get_content())
    assert found, last.get_content()
    return found.group(1)


def _email() -> str:
    return f"trader-{secrets.token_hex(4)}@example.in"


def test_sign_up_confirm_by_the_emailed_code_then_sign_in_on_the_free_plan_with_a_trial(
    api, platform
) -> None:
    email = _email()
    # Given a person who signs up
    weak = api.post("/auth/signup", json={"name": "Asha Rao", "email": email, "password": "password"})
    assert weak.status_code == 422 and "12 characters" in weak.json()["detail"]
    signed = api.post("/auth/signup", json={"name": "Asha Rao", "email": email, "password": PASSWORD})
    assert signed.status_code == 202, signed.text
    assert signed.json()["next"].startswith("POST /auth/confirm")
    # Then they cannot sign in before confirming, and the same e-mail again is 409
    early = api.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert early.status_code == 401 and "confirm your e-mail" in early.json()["detail"]
    again = api.post("/auth/signup", json={"name": "X", "email": email, "password": PASSWORD})
    assert again.status_code == 409
    # And the table keeps only the code's hash
    code = _code(platform, email, "signup")
    user_id = next(UserItem.by_email.query(email)).user_id
    stored = AccountCodeItem.get(f"signup#{user_id}", consistent_read=True)
    assert code not in stored.code_hash and stored.code_hash != code
    # When the code from the e-mail comes back
    confirmed = api.post("/auth/confirm", json={"email": email, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    me_confirmed = confirmed.json()
    assert me_confirmed["plan_id"] == "starter" and me_confirmed["tenant_id"].startswith("tnt_")
    # Then sign-in works, and the account is its own tenant on the free plan with the trial on offer
    token = api.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = api.get("/api/me", headers=h).json()
    assert (me["email"], me["plan_id"], me["mfa_enabled"]) == (email, "starter", False)
    sub = api.get("/api/billing/subscription", headers=h)
    assert sub.status_code == 200, sub.text
    assert sub.json()["trial_available"] is True and sub.json()["plan"]["plan_id"] == "starter"
    assert sub.json()["tenant_id"] == me["tenant_id"]
    # And the code worked once
    reused = api.post("/auth/confirm", json={"email": email, "code": code})
    assert reused.status_code == 422


def test_wrong_codes_are_limited_and_a_resent_code_works(api, platform) -> None:
    email = _email()
    assert (
        api.post("/auth/signup", json={"name": "R", "email": email, "password": PASSWORD}).status_code == 202
    )
    right = _code(platform, email, "signup")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answers = [api.post("/auth/confirm", json={"email": email, "code": wrong}).status_code for _ in range(5)]
    assert answers == [422] * 5
    spent = api.post("/auth/confirm", json={"email": email, "code": right})
    assert spent.status_code == 403 and "POST /auth/resend" in spent.json()["detail"]
    # a new code within the minute is refused (429 with Retry-After)
    soon = api.post("/auth/resend", json={"email": email})
    assert soon.status_code == 429 and int(soon.headers["retry-after"]) > 0


def test_password_reset_and_email_change_through_the_sink(api, platform) -> None:
    email, new_email = _email(), _email()
    api.post("/auth/signup", json={"name": "Ravi", "email": email, "password": PASSWORD})
    api.post("/auth/confirm", json={"email": email, "code": _code(platform, email, "signup")})
    # forgot is 202 for anyone; only the real account gets a code
    assert api.post("/auth/password/forgot", json={"email": _email()}).status_code == 202
    assert api.post("/auth/password/forgot", json={"email": email}).status_code == 202
    new_password = "Bank-Nifty-Dusk-9"
    reset = api.post(
        "/auth/password/reset",
        json={"email": email, "code": _code(platform, email, "reset"), "new_password": new_password},
    )
    assert reset.status_code == 204, reset.text
    assert api.post("/auth/token", data={"username": email, "password": PASSWORD}).status_code == 401
    token = api.post("/auth/token", data={"username": email, "password": new_password}).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    # e-mail change: the code goes to the new address
    asked = api.post("/api/me/email", headers=h, json={"new_email": new_email, "password": new_password})
    assert asked.status_code == 202, asked.text
    done = api.post("/api/me/email/confirm", headers=h, json={"code": _code(platform, new_email, "email")})
    assert done.status_code == 200 and done.json()["email"] == new_email
    assert api.post("/auth/token", data={"username": new_email, "password": new_password}).status_code == 200
    assert api.post("/auth/token", data={"username": email, "password": new_password}).status_code == 401


def _account(api: TestClient, platform: Settings) -> str:
    email = _email()
    api.post("/auth/signup", json={"name": "S", "email": email, "password": PASSWORD})
    assert api.post(
        "/auth/confirm", json={"email": email, "code": _code(platform, email, "signup")}
    ).is_success
    return email


def test_refresh_tokens_rotate_reuse_ends_the_session_and_logout_ends_it(api, platform) -> None:
    email = _account(api, platform)
    signed = api.post("/auth/token", data={"username": email, "password": PASSWORD}).json()
    first = signed["refresh_token"]
    # Then only its hash is stored
    assert RefreshTokenItem.get(token_hash(first), consistent_read=True).user_id
    # When it is refreshed, a new pair comes back and the access token works
    rotated = api.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    h = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert api.get("/api/me", headers=h).json()["email"] == email
    # When the first is presented again (a copy) / Then 401, and the second is dead too
    reuse = api.post("/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401 and "already used" in reuse.json()["detail"]
    assert api.post("/auth/refresh", json={"refresh_token": second}).status_code == 401
    # And logout ends a fresh session
    fresh = api.post("/auth/token", data={"username": email, "password": PASSWORD}).json()["refresh_token"]
    assert api.post("/auth/logout", json={"refresh_token": fresh}).status_code == 204
    assert api.post("/auth/refresh", json={"refresh_token": fresh}).status_code == 401


def test_totp_turns_on_with_a_code_then_sign_in_needs_it_and_api_keys_need_it(api, platform) -> None:
    email = _account(api, platform)
    h = {
        "Authorization": "Bearer "
        + api.post("/auth/token", data={"username": email, "password": PASSWORD}).json()["access_token"]
    }
    enrolled = api.post("/api/me/mfa/totp", headers=h)
    assert enrolled.status_code == 201, enrolled.text
    secret = enrolled.json()["secret"]
    assert enrolled.json()["otpauth_uri"].startswith("otpauth://totp/Trade%20Mantra:")
    # Given two-factor is not on yet, API key creation (Institutional here) is refused naming it
    user_id = next(UserItem.by_email.query(email)).user_id
    UserItem(user_id=user_id).update(actions=[UserItem.plan_id.set("institutional")])
    refused = api.post("/api/keys", headers=h, json={"name": "n"})
    assert refused.status_code == 403 and "two-factor" in refused.json()["detail"]
    # When a code from the app comes back
    now_s = int(time.time())
    on = api.post("/api/me/mfa/totp/verify", headers=h, json={"code": pyotp.TOTP(secret).at(now_s)})
    assert on.status_code == 200 and on.json()["mfa_enabled"] is True
    assert api.get("/api/me", headers=h).json()["mfa_enabled"] is True
    # Then sign-in without totp is 401 naming it, and with a fresh one (the next step's code) works
    bare = api.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert bare.status_code == 401 and bare.json()["detail"].startswith("totp:")
    nxt = pyotp.TOTP(secret).at(now_s + 30)
    signed = api.post("/auth/token", data={"username": email, "password": PASSWORD, "totp": nxt})
    assert signed.status_code == 200, signed.text
    # And API keys can be created now
    assert api.post("/api/keys", headers=h, json={"name": "n"}).status_code == 201


def test_export_holds_everything_about_me_without_secrets_and_delete_erases_it(api, platform) -> None:
    email = _account(api, platform)
    signed = api.post("/auth/token", data={"username": email, "password": PASSWORD}).json()
    h = {"Authorization": f"Bearer {signed['access_token']}"}
    alert = api.post(
        "/api/alerts",
        headers=h,
        json={
            "symbol": "RELIANCE",
            "condition": "expression",
            "expression": "close > 0",
            "channels": ["in_app"],
        },
    )
    assert alert.status_code == 201, alert.text
    assert api.post("/api/watchlists", headers=h, json={"name": "Banks", "symbols": ["HDFCBANK"]}).is_success
    api.post("/api/me/mfa/totp", headers=h)  # a pending TOTP secret: held, never exported
    # When I export my data
    exported = api.get("/api/me/export", headers=h)
    assert exported.status_code == 200, exported.text
    data = exported.json()
    # Then it has my profile, my alert and watchlist, the (empty) billing state, and no hash or secret
    assert data["profile"]["email"] == email and data["profile"]["created_at"]
    assert [a["alert_id"] for a in data["alerts"]] == [alert.json()["alert_id"]]
    assert [w["name"] for w in data["watchlists"]] == ["Banks"]
    assert data["billing"] == {"account": None, "invoices": []}
    user_id = data["profile"]["user_id"]
    stored = UserItem.get(user_id, consistent_read=True)
    text = exported.text
    assert stored.password_hash not in text and (stored.mfa_pending_secret or "x" * 40) not in text
    # When I delete the account with a wrong password / Then nothing happens
    wrong = api.request("DELETE", "/api/me", headers=h, json={"password": "Wrong-password-1"})
    assert wrong.status_code == 401
    # When I delete it with my password
    deleted = api.request("DELETE", "/api/me", headers=h, json={"password": PASSWORD})
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert (
        body["deleted"]["alerts"] == 1 and body["deleted"]["watchlists"] == 1 and body["deleted"]["user"] == 1
    )
    assert body["deleted"]["sessions"] >= 1 and "invoices" in body["kept"][0]
    # Then I am gone: the token's user no longer exists, sign-in fails, the refresh token is dead,
    # and the e-mail can open a new account
    assert api.get("/api/me", headers=h).status_code == 401
    assert api.post("/auth/token", data={"username": email, "password": PASSWORD}).status_code == 401
    assert api.post("/auth/refresh", json={"refresh_token": signed["refresh_token"]}).status_code == 401
    again = api.post("/auth/signup", json={"name": "Back", "email": email, "password": PASSWORD})
    assert again.status_code == 202, again.text
