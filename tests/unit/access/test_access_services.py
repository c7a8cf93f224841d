"""API keys, rate-limit decisions and the plan catalog, as services over in-memory ports."""

from __future__ import annotations

import re

import pytest
import timebase
from access_fakes import InMemoryApiKeys, InMemoryRateCounter, Plans, user
from mantra.access.apikeys import KEY_FORMAT, ApiKeyService, hash_key
from mantra.access.entitlements import PlanCatalog
from mantra.access.ratelimit import RateLimiter, decide, window_start
from mantra.billing.plans import load_catalogs
from mantra.clock import ManualClock
from mantra.domain import Plan
from mantra.errors import Forbidden, LimitExceeded, NotFound, RateLimited, Unauthorized

T0 = timebase.SESSION_10AM  # ms
INST = user("usr_inst", "institutional")
OTHER = user("usr_other", "institutional")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store() -> InMemoryApiKeys:
    return InMemoryApiKeys()


@pytest.fixture
def keys(store: InMemoryApiKeys, clock: ManualClock) -> ApiKeyService:
    return ApiKeyService(store, clock)


def _plan(plan_id: str) -> Plan:
    return next(p for p in load_catalogs() if p.plan_id == plan_id)


# --- API keys ----------------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_only_its_hash_and_prefix_are_stored(keys, store) -> None:
    # When a key is created
    key, full = keys.create(INST, "notebook")
    # Then it has the documented shape with 32 random bytes (43 url-safe characters) after the key id
    m = KEY_FORMAT.fullmatch(full)
    assert m is not None and m["key_id"] == key.key_id and len(m["secret"]) == 43
    # And the store holds its SHA-256 and a prefix that gives away only 4 characters of the secret
    ((stored, stored_hash),) = store.items.values()
    assert stored_hash == hash_key(full) and re.fullmatch(r"[0-9a-f]{64}", stored_hash)
    assert full.startswith(stored.prefix) and len(stored.prefix) == len(full) - 39
    assert full not in repr(store.items)
    # And two keys never share a secret
    assert keys.create(INST, "second")[1] != full


def test_a_presented_key_authenticates_as_its_tenant_and_user(keys) -> None:
    key, full = keys.create(INST, "notebook")
    found = keys.authenticate(full)
    assert (found.key_id, found.tenant_id, found.user_id) == (key.key_id, INST.tenant_id, INST.user_id)


@pytest.mark.parametrize(
    ("presented", "reason"),
    [
        ("tm_live_000000000000_" + "A" * 43, "unknown API key"),
        ("tm_live_short", "malformed API key"),
        ("Bearer abc", "malformed API key"),
    ],
)
def test_an_unknown_or_malformed_key_is_refused(keys, presented: str, reason: str) -> None:
    keys.create(INST, "notebook")
    with pytest.raises(Unauthorized, match=reason):
        keys.authenticate(presented)


def test_a_key_with_one_character_changed_is_unknown(keys) -> None:
    _, full = keys.create(INST, "notebook")
    tampered = full[:-1] + ("A" if full[-1] != "A" else "B")
    with pytest.raises(Unauthorized, match="unknown API key"):
        keys.authenticate(tampered)


def test_a_revoked_key_is_refused_and_stays_listed_as_revoked(keys, clock) -> None:
    key, full = keys.create(INST, "notebook")
    clock.advance_s(5)
    revoked = keys.revoke(INST, key.key_id)
    assert revoked.revoked_ms == T0 + 5000
    with pytest.raises(Unauthorized, match="was revoked"):
        keys.authenticate(full)
    # And revoking again keeps the first revocation time
    clock.advance_s(5)
    assert keys.revoke(INST, key.key_id).revoked_ms == T0 + 5000
    assert [(k.key_id, k.revoked) for k in keys.list(INST)] == [(key.key_id, True)]


def test_another_tenants_key_is_not_found_and_not_revoked(keys) -> None:
    key, full = keys.create(INST, "notebook")
    with pytest.raises(NotFound, match=key.key_id):
        keys.revoke(OTHER, key.key_id)
    assert keys.list(OTHER) == []
    assert keys.authenticate(full).key_id == key.key_id


def test_last_used_is_written_at_most_once_a_minute(keys, store, clock) -> None:
    key, full = keys.create(INST, "notebook")
    # When the key is used 30 times within a minute, then once more after the minute
    for _ in range(30):
        keys.authenticate(full)
        clock.advance_s(1)
    assert store.touches == 1 and store.get(INST.tenant_id, key.key_id).last_used_ms == T0  # type: ignore[union-attr]
    clock.advance_s(31)
    keys.authenticate(full)
    # Then it was written twice, the second time with the later use
    assert store.touches == 2
    assert store.get(INST.tenant_id, key.key_id).last_used_ms == T0 + 61_000  # type: ignore[union-attr]


def test_an_account_holds_at_most_25_active_keys(keys) -> None:
    made = [keys.create(INST, f"k{i}")[0] for i in range(25)]
    with pytest.raises(LimitExceeded, match="at most 25 active keys"):
        keys.create(INST, "one too many")
    keys.revoke(INST, made[0].key_id)
    assert keys.create(INST, "after a revoke")[0].name == "after a revoke"


# --- rate limits -------------------------------------------------------------------------------------------


def test_decide_counts_against_the_limit_and_resets_at_the_window_end() -> None:
    now_s = 1_795_401_234
    start = window_start(now_s)
    assert start % 3600 == 0 and start <= now_s < start + 3600
    ok = decide(100, 100, now_s)
    assert ok.allowed and ok.remaining == 0 and ok.reset_s == start + 3600
    over = decide(101, 100, now_s)
    assert not over.allowed and over.retry_after_s == start + 3600 - now_s
    assert decide(1, 100, now_s).headers() == {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "99",
        "X-RateLimit-Reset": str(start + 3600),
    }


def test_the_101st_call_of_a_starter_hour_is_refused_until_the_next_window(clock) -> None:
    counter = InMemoryRateCounter()
    limiter = RateLimiter(counter, clock)
    starter = _plan("starter")
    clock.now = 1_795_399_200_000 + 1_800_000  # half way through an hour
    # When the tenant makes 100 calls, then one more
    decisions = [limiter.hit("ten_a", starter) for _ in range(100)]
    assert [d.remaining for d in decisions if d is not None][-3:] == [2, 1, 0]
    with pytest.raises(RateLimited) as refused:
        limiter.hit("ten_a", starter)
    # Then the refusal says when to come back: the end of the hour
    assert refused.value.limit == 100 and refused.value.retry_after_s == 1800
    assert refused.value.reset_s == 1_795_399_200 + 3600 and "Starter" in refused.value.message
    # And another tenant has its own counter
    assert limiter.hit("ten_b", starter).remaining == 99  # type: ignore[union-attr]
    # And the next hour starts afresh; the old window's counter expires three hours after it ends
    clock.advance_s(1800)
    assert limiter.hit("ten_a", starter).remaining == 99  # type: ignore[union-attr]
    assert counter.expiry["ten_a#1795399200"] == 1_795_399_200 + 3600 + 3 * 3600


def test_a_plan_without_an_hourly_limit_costs_no_write(clock) -> None:
    counter = InMemoryRateCounter()
    unlimited = _plan("pro").model_copy(update={"limits": {"alerts": 5}})
    assert RateLimiter(counter, clock).hit("ten_a", unlimited) is None
    assert counter.counts == {}


# --- plan catalog ------------------------------------------------------------------------------------------


def test_the_catalog_is_read_once_a_minute_per_process(clock) -> None:
    plans = Plans(load_catalogs())
    catalog = PlanCatalog(plans, clock)
    for _ in range(50):
        catalog.get("pro")
        catalog.require(catalog.get("pro"), "webhooks")
    assert plans.scans == 1
    clock.advance_s(60)
    catalog.get("pro")
    assert plans.scans == 2


def test_the_catalog_names_the_plan_that_unlocks_a_feature_in_the_callers_currency(clock) -> None:
    catalog = PlanCatalog(Plans(load_catalogs()), clock)
    with pytest.raises(
        Forbidden, match=r"option analytics needs the Trader plan or higher \(you are on Starter\)"
    ):
        catalog.require(catalog.get("starter"), "option_analytics")
    with pytest.raises(Forbidden, match=r"api access needs the Institutional plan .*usd_institutional"):
        catalog.require(catalog.get("usd_pro"), "api_access")
    catalog.require(catalog.get("usd_institutional"), "api_access")


def test_a_plan_missing_from_the_catalog_is_forbidden_not_a_crash(clock) -> None:
    catalog = PlanCatalog(Plans(load_catalogs()), clock)
    with pytest.raises(Forbidden, match="'gold' is not in the plan catalog"):
        catalog.get("gold")
