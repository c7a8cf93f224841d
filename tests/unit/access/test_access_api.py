"""The access rules over HTTP: API keys on /v1, entitlements, rate-limit headers and 429, roles."""

from __future__ import annotations

from typing import Annotated

import pytest
from access_fakes import AccessContainer
from fastapi import Depends
from fastapi.testclient import TestClient
from mantra.domain import Role, User
from mantra.settings import Settings

from frontend_api.app import create_app
from frontend_api.deps import RequireRole


@pytest.fixture
def container() -> AccessContainer:
    return AccessContainer()


@pytest.fixture
def client(container: AccessContainer, access_key_file) -> TestClient:
    settings = Settings(
        dev_issuer_key_file=access_key_file,
        auth_issuer="https://issuer.test/auth",
        auth_client_id="client-test",
    )
    return TestClient(create_app(settings, container), raise_server_exceptions=False)  # type: ignore[arg-type]


def bearer(client: TestClient, container: AccessContainer, user_id: str) -> dict[str, str]:
    token = client.app.state.dev_issuer.issue(container.users.get(user_id), container.clock.now // 1000)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def new_key(client: TestClient, container: AccessContainer, user_id: str = "usr_inst") -> dict:
    resp = client.post("/api/keys", json={"name": "notebook"}, headers=bearer(client, container, user_id))
    assert resp.status_code == 201, resp.text
    return resp.json()


# --- entitlements -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "feature"),
    [("/api/option-chain/NIFTY", "option analytics"), ("/api/webhooks", "webhooks")],
)
def test_starter_is_told_which_plan_unlocks_option_chains_and_webhooks(
    client, container, path, feature
) -> None:
    resp = client.get(path, headers=bearer(client, container, "usr_starter"))
    assert resp.status_code == 403
    detail = resp.json()["detail"]
    assert f"{feature} needs the Trader plan or higher (you are on Starter)" in detail
    assert '"plan_id": "trader"' in detail


def test_pro_reaches_option_chains_and_webhooks(client, container) -> None:
    h = bearer(client, container, "usr_pro")
    # the fake chain service answers 404: the request got past the entitlement
    assert client.get("/api/option-chain/NIFTY", headers=h).status_code == 404
    assert client.get("/api/webhooks", headers=h).json() == []


def test_api_keys_need_the_institutional_plan(client, container) -> None:
    resp = client.post("/api/keys", json={"name": "n"}, headers=bearer(client, container, "usr_pro"))
    assert resp.status_code == 403
    assert "api access needs the Institutional plan or higher (you are on Pro)" in resp.json()["detail"]


# --- API keys ---------------------------------------------------------------------------------------------


def test_creating_an_api_key_needs_two_factor_on(client, container) -> None:
    # Given an Institutional user (entitled to keys) without two-factor
    h = bearer(client, container, "usr_inst_nomfa")
    # When they create a key / Then 403 says how to turn two-factor on, and no key exists
    resp = client.post("/api/keys", json={"name": "n"}, headers=h)
    assert resp.status_code == 403 and "POST /api/me/mfa/totp" in resp.json()["detail"]
    assert container.key_store.items == {}
    # And listing still works (only creation is gated)
    assert client.get("/api/keys", headers=h).json() == []


def test_a_key_is_shown_once_listed_without_secret_and_works_on_v1(client, container) -> None:
    # Given an Institutional user who creates a key
    created = new_key(client, container)
    key = created["key"]
    assert key.startswith(created["prefix"]) and key.startswith("tm_live_")
    # When they list their keys
    listed = client.get("/api/keys", headers=bearer(client, container, "usr_inst")).json()
    # Then neither the key nor its hash is in the answer
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert set(listed[0]) == {
        "key_id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked",
        "revoked_at",
    }
    assert key not in str(listed) and created["prefix"] in str(listed)
    # And the key signs a client in on /v1, as the key's user
    me = client.get("/v1/me", headers={"X-API-Key": key})
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == "usr_inst"
    after = client.get("/api/keys", headers=bearer(client, container, "usr_inst")).json()
    assert after[0]["last_used_at"] is not None


def test_keys_only_on_v1_and_bearer_tokens_only_on_api(client, container) -> None:
    key = new_key(client, container)["key"]
    # A key on /api is refused, saying where it belongs
    resp = client.get("/api/me", headers={"X-API-Key": key})
    assert resp.status_code == 401 and "/v1" in resp.json()["detail"]
    # A bearer token on /v1 is refused, asking for a key
    resp = client.get("/v1/me", headers=bearer(client, container, "usr_inst"))
    assert resp.status_code == 401 and "X-API-Key" in resp.json()["detail"]
    assert resp.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'


def test_a_revoked_or_unknown_key_gets_401(client, container) -> None:
    created = new_key(client, container)
    h = bearer(client, container, "usr_inst")
    assert client.delete(f"/api/keys/{created['key_id']}", headers=h).status_code == 204
    resp = client.get("/v1/me", headers={"X-API-Key": created["key"]})
    assert resp.status_code == 401 and "revoked" in resp.json()["detail"]
    unknown = "tm_live_0123456789ab_" + "x" * 43
    assert client.get("/v1/me", headers={"X-API-Key": unknown}).status_code == 401
    listed = client.get("/api/keys", headers=h).json()
    assert listed[0]["revoked"] is True and listed[0]["revoked_at"] is not None


def test_another_tenants_key_answers_404_and_keeps_working(client, container) -> None:
    created = new_key(client, container, "usr_inst")
    other = bearer(client, container, "usr_usd")
    assert client.delete(f"/api/keys/{created['key_id']}", headers=other).status_code == 404
    assert client.get("/api/keys", headers=other).json() == []
    assert client.get("/v1/me", headers={"X-API-Key": created["key"]}).status_code == 200


def test_a_key_of_a_tenant_downgraded_below_api_access_gets_403_naming_the_plan(client, container) -> None:
    key = new_key(client, container)["key"]
    # When the tenant moves to Elite (no api_access)
    container.users.items["usr_inst"] = container.users.items["usr_inst"].model_copy(
        update={"plan_id": "elite"}
    )
    resp = client.get("/v1/me", headers={"X-API-Key": key})
    # Then the key is refused for the plan, not as unknown
    assert resp.status_code == 403
    assert "api access needs the Institutional plan or higher (you are on Elite)" in resp.json()["detail"]


def test_a_key_cannot_manage_keys(client, container) -> None:
    key = new_key(client, container)["key"]
    resp = client.post("/v1/keys", json={"name": "minted by a key"}, headers={"X-API-Key": key})
    assert resp.status_code == 403 and "bearer token" in resp.json()["detail"]
    assert len(container.key_store.items) == 1


# --- rate limits ------------------------------------------------------------------------------------------


def _limit_starter(container: AccessContainer, per_hour: int) -> None:
    plan = container.plans.items["starter"]
    container.plans.items["starter"] = plan.model_copy(
        update={"limits": {**plan.limits, "api_calls_per_hour": per_hour}}
    )


def test_every_authenticated_answer_carries_the_rate_limit_headers(client, container) -> None:
    h = bearer(client, container, "usr_pro")
    reset = str((container.clock.now // 1000) // 3600 * 3600 + 3600)
    answers = [
        client.get("/api/me", headers=h),  # a model
        client.get("/api/option-chain/NIFTY", headers=h),  # an error handler's answer
        client.get("/api/option-chain/NIFTY", headers=bearer(client, container, "usr_starter")),  # a 403
    ]
    assert [r.status_code for r in answers] == [200, 404, 403]
    for r, remaining in zip(answers, ["9999", "9998", "99"], strict=True):
        assert r.headers["x-ratelimit-remaining"] == remaining, r.headers
        assert r.headers["x-ratelimit-reset"] == reset
    assert answers[0].headers["x-ratelimit-limit"] == "10000"
    # And a route that returns a bare Response (204) has them too
    created = new_key(client, container)
    gone = client.delete(f"/api/keys/{created['key_id']}", headers=bearer(client, container, "usr_inst"))
    assert gone.status_code == 204 and gone.headers["x-ratelimit-limit"] == "100000"
    # And unauthenticated answers do not
    assert "x-ratelimit-limit" not in client.get("/api/me").headers


def test_over_the_hourly_limit_the_api_answers_429_with_retry_after(client, container) -> None:
    _limit_starter(container, 3)
    h = bearer(client, container, "usr_starter")
    now_s = container.clock.now // 1000
    window_end = now_s // 3600 * 3600 + 3600
    assert [client.get("/api/me", headers=h).status_code for _ in range(3)] == [200, 200, 200]
    # When the fourth call of the hour arrives
    refused = client.get("/api/me", headers=h)
    # Then it is refused with when to retry, on a key path as on a token path
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(window_end - now_s)
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str(window_end)
    assert "3 API calls an hour on the Starter plan" in refused.json()["detail"]
    # And the next window lets them in again (the same token: PyJWT reads the wall clock, not ours)
    container.clock.advance_s(window_end - now_s)
    again = client.get("/api/me", headers=h)
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "2"


def test_a_request_reads_the_plan_catalog_at_most_once_a_minute(client, container) -> None:
    h = bearer(client, container, "usr_pro")
    for _ in range(5):
        client.get("/api/option-chain/NIFTY", headers=h)  # entitlement + rate limit on each
    assert container.plans.scans == 1
    assert sum(container.counter.counts.values()) == 5  # one counter write per request


def test_sign_in_is_not_rate_limited(client, container) -> None:
    wrong = client.post("/auth/token", data={"username": "nobody@demo.in", "password": "x"})
    assert wrong.status_code == 401 and "x-ratelimit-limit" not in wrong.headers
    assert client.get("/auth/.well-known/jwks.json").status_code == 200
    assert container.counter.counts == {}


# --- roles ------------------------------------------------------------------------------------------------


def test_require_role_lets_in_only_the_named_roles(client, container) -> None:
    def report(user: Annotated[User, RequireRole(Role.FINANCE, Role.ADMIN)]) -> dict[str, str]:
        return {"user": user.user_id}

    client.app.add_api_route("/api/finance-only", report, methods=["GET"])  # type: ignore[attr-defined]
    assert client.get("/api/finance-only", headers=bearer(client, container, "usr_fin")).status_code == 200
    assert client.get("/api/finance-only", headers=bearer(client, container, "usr_inst")).status_code == 200
    refused = client.get("/api/finance-only", headers=bearer(client, container, "usr_inst2"))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this needs the admin or finance role (you have: trader)"
    assert client.get("/api/finance-only").status_code == 401


def test_require_role_with_no_roles_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        Depends(RequireRole())
