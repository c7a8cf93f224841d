"""API keys and rate limits against DynamoDB Local: the hashed key table and its by_hash index, last_used
written at most once a minute, the atomic hourly counter (ADD, TTL) under concurrency, and /v1 over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import timebase
from fastapi.testclient import TestClient
from helpers import user_with_mfa
from mantra.access.apikeys import hash_key
from mantra.access.ratelimit import RateLimiter, counter_key, window_start
from mantra.clock import ManualClock
from mantra.container import Container
from mantra.errors import NotFound, RateLimited
from mantra.settings import Settings
from mantra.store.access_models import ApiKeyItem, RateCounterItem
from mantra.store.access_repository import DynamoRateCounter
from mantra.store.repositories import DynamoPlanRepository

from frontend_api.app import create_app


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(timebase.NOW_MS)


@pytest.fixture
def client(platform: Settings, clock: ManualClock) -> tuple[TestClient, Container]:
    container = Container(platform, clock)
    return TestClient(create_app(platform, container)), container


def _auth(client: TestClient, email: str) -> dict[str, str]:
    resp = client.post("/auth/token", data={"username": email, "password": "mantra-demo"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_an_api_key_round_trip_over_http_stores_only_its_hash(client, clock) -> None:
    api, _ = client
    # Given an Institutional user with two-factor on (key creation needs it), who creates a key
    owner, admin = user_with_mfa(api.app, "institutional", clock.now)
    created = api.post("/api/keys", json={"name": "it notebook"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    key, key_id = body["key"], body["key_id"]
    # Then the table holds its hash and prefix, never the key
    item = ApiKeyItem.get(owner.tenant_id, key_id, consistent_read=True)
    assert item.key_hash == hash_key(key) and item.prefix == body["prefix"]
    assert key not in str(item.attribute_values)
    # When a client calls /v1 with it, twice within a minute
    first = api.get("/v1/me", headers={"X-API-Key": key})
    clock.advance_s(10)
    second = api.get("/v1/quotes/RELIANCE", headers={"X-API-Key": key})
    # Then both are served as the key's user, with the rate-limit headers
    assert first.status_code == 200, first.text
    assert first.json()["email"] == owner.email
    assert second.status_code in (200, 404), second.text  # a quote may not exist yet: the key got in
    assert int(first.headers["x-ratelimit-limit"]) == 100_000
    assert int(second.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1
    # And last_used was written once, at the first use
    used = ApiKeyItem.get(owner.tenant_id, key_id, consistent_read=True).last_used_ms
    assert used == clock.now - 10_000
    # And a Pro user cannot manage keys at all: the answer names the plan that can
    pro = api.delete(f"/api/keys/{key_id}", headers=_auth(api, "pro@demo.trademantra.in"))
    assert pro.status_code == 403 and "Institutional plan or higher" in pro.json()["detail"]
    # When the key is revoked, it answers 401
    assert api.delete(f"/api/keys/{key_id}", headers=admin).status_code == 204
    refused = api.get("/v1/me", headers={"X-API-Key": key})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_another_tenants_key_is_not_found_and_keeps_working(client, clock) -> None:
    api, container = client
    _, owner = user_with_mfa(api.app, "institutional", clock.now)
    key = api.post("/api/keys", json={"name": "mine"}, headers=owner).json()
    # Given a user of another tenant (made Institutional here: the seeded ones share one tenant)
    found = container.users.by_email("pro@demo.trademantra.in")
    assert found is not None
    other = found[0].model_copy(update={"plan_id": "institutional"})
    # When they try to revoke the key / Then it is not found, and it still works
    with pytest.raises(NotFound, match=key["key_id"]):
        container.api_keys.revoke(other, key["key_id"])
    assert all(k.key_id != key["key_id"] for k in container.api_keys.list(other))
    assert api.get("/v1/me", headers={"X-API-Key": key["key"]}).status_code == 200


def test_the_hourly_counter_is_atomic_under_concurrent_calls_and_expires_after_its_window(clock) -> None:
    # Given the Starter plan (100 calls an hour) and a fresh tenant
    starter = DynamoPlanRepository().get("starter")
    assert starter is not None
    tenant = f"tnt_it_{time.time_ns()}"
    limiter = RateLimiter(DynamoRateCounter(), clock)

    # When 120 calls race through 8 threads
    def call(_: int) -> str:
        try:
            limiter.hit(tenant, starter)
            return "ok"
        except RateLimited:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(call, range(120)))
    # Then exactly 100 got through: no lost updates
    assert outcomes.count("ok") == 100 and outcomes.count("refused") == 20
    start = window_start(clock.now // 1000)
    item = RateCounterItem.get(counter_key(tenant, start), consistent_read=True)
    assert int(item.count) == 120
    assert int(item.expires_at.timestamp()) == start + 3600 + 3 * 3600
    # And the next window starts from one
    clock.advance_s(3600)
    assert limiter.hit(tenant, starter).remaining == 99  # type: ignore[union-attr]
