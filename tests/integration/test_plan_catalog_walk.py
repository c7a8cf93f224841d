"""The plan catalogs walked over HTTP, against the real services on DynamoDB Local and moto.

For every feature registered as sellable (``mantra.billing.features``): each plan without it is refused with 403
naming the cheapest plan of its catalog that has it, and each plan with it gets through. A feature every plan has
is taken away from a copy of the free plan to see the refusal. For every limit: a copy of the free plan with that
limit small is refused just past it. A name without a probe here fails the walk, so a new flag or limit cannot be
sold unenforced; what is not built yet is listed under ``coming_soon`` and refused as such.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from mantra.alerts.dispatch import AlertTriggered
from mantra.billing.features import FEATURES, LIMITS
from mantra.billing.plans import load_catalogs, unlocking_plan
from mantra.clock import SystemClock, ist_from_ms
from mantra.container import Container
from mantra.domain import Channel, Plan, Preferences, Role, User
from mantra.errors import Forbidden
from mantra.market.eod import session_start_ms
from mantra.settings import Settings
from mantra.store.account_repository import DynamoAccounts
from mantra.store.repositories import DynamoPlanRepository
from nse_files import daily_candles

from frontend_api.app import create_app

CATALOG = load_catalogs()
_ids = itertools.count()


class WalkPlans:
    """The stored catalog plus this walk's copies of the free plan (kept out of the shared plans table)."""

    def __init__(self, extra: list[Plan]) -> None:
        self._stored, self._extra = DynamoPlanRepository(), {p.plan_id: p for p in extra}

    def get(self, plan_id: str) -> Plan | None:
        return self._extra.get(plan_id) or self._stored.get(plan_id)

    def all(self) -> list[Plan]:
        return [*self._stored.all(), *self._extra.values()]

    def add(self, plan: Plan) -> Plan:
        self._extra[plan.plan_id] = plan
        return plan


class Walk:
    def __init__(self, platform: Settings) -> None:
        self.plans = WalkPlans([])
        self.container = Container(platform, SystemClock())
        self.container.plans = self.plans  # type: ignore[assignment]  # before any service is built
        self.client = TestClient(create_app(platform, self.container))

    def user_on(self, plan: Plan) -> tuple[User, dict[str, str]]:
        """A new user (and tenant) on ``plan``: every probe starts from nothing."""
        n = next(_ids)
        user = User(
            user_id=f"usr_walk_{n}",
            email=f"walk{n}@test.trademantra.in",
            name=f"Walk {n}",
            tenant_id=f"ten_walk_{n}",
            roles=frozenset({Role.TRADER}),
            plan_id=plan.plan_id,
        )
        now = SystemClock().now_ms()
        self.container.users.put(user, "unused", now)
        # two-factor on: what the plan sells is walked here, not the MFA gate (test_accounts_integration)
        accounts = DynamoAccounts()
        accounts.set_pending_mfa(user.user_id, "JBSWY3DPEHPK3PXP")
        accounts.enable_mfa(user.user_id, "JBSWY3DPEHPK3PXP", now, 0)
        token = self.client.app.state.dev_issuer.issue(user, now // 1000)  # type: ignore[attr-defined]
        return user, {"Authorization": f"Bearer {token}"}

    def free_copy(self, catalog: str, suffix: str, **update: object) -> Plan:
        free = min((p for p in CATALOG if p.catalog == catalog), key=lambda p: p.rank)
        top = max((p for p in CATALOG if p.catalog == catalog), key=lambda p: p.rank)
        base = {"plan_id": f"walk_{suffix}_{next(_ids)}", "features": top.features, "limits": top.limits}
        return self.plans.add(free.model_copy(update={**base, **update}))


@pytest.fixture(scope="module")
def walk(platform: Settings) -> Walk:
    return Walk(platform)


Probe = Callable[[TestClient, dict[str, str]], "object"]


def _expression_alert(channels: list[str]) -> dict[str, object]:
    return {"symbol": "RELIANCE", "condition": "expression", "expression": "close > 0", "channels": channels}


# feature -> requests that need it, each answering 2xx to a plan that has it
FEATURE_PROBES: dict[str, list[Callable[[TestClient, dict[str, str]], object]]] = {
    "alerts": [lambda c, h: c.get("/api/alerts", headers=h)],
    "realtime_alerts": [
        lambda c, h: c.post(
            "/api/alerts", headers=h, json={"symbol": "RELIANCE", "condition": "above", "price": "1.00"}
        )
    ],
    "sms_alerts": [
        lambda c, h: c.post("/api/alerts", headers=h, json=_expression_alert(["in_app", "sms"])),
        lambda c, h: c.post("/api/me/phone", headers=h, json={"phone_e164": "+919876500001"}),
    ],
    "scanners": [lambda c, h: c.get("/api/scanners", headers=h)],
    "backtests": [lambda c, h: c.get("/api/backtests", headers=h)],
    "option_analytics": [lambda c, h: c.get("/api/option-chain/NIFTY", headers=h)],
    "webhooks": [
        lambda c, h: c.get("/api/webhooks", headers=h),
        lambda c, h: c.post("/api/alerts", headers=h, json=_expression_alert(["in_app", "webhook"])),
    ],
    "api_access": [lambda c, h: c.post("/api/keys", headers=h, json={"name": "walk"})],
}


def test_every_sellable_feature_and_limit_has_a_probe_in_this_walk() -> None:
    # a name registered without a probe (or a probe for a name nobody sells) fails here
    assert set(FEATURE_PROBES) == set(FEATURES)
    assert set(LIMIT_PROBES) == set(LIMITS)
    sold = {f for p in CATALOG for f in p.features}
    assert sold <= set(FEATURES) and {name for p in CATALOG for name in p.limits} <= set(LIMITS)


@pytest.mark.parametrize("feature", sorted(FEATURES))
@pytest.mark.parametrize("catalog", ["INR", "USD"])
def test_a_plan_without_the_feature_is_told_which_plan_unlocks_it_and_a_plan_with_it_gets_through(
    walk: Walk, catalog: str, feature: str
) -> None:
    # Given every plan of the catalog, and a copy of the free plan without the feature if every plan has it
    ladder = sorted((p for p in CATALOG if p.catalog == catalog), key=lambda p: p.rank)
    unlock = unlocking_plan(CATALOG, catalog, feature)
    assert unlock is not None, f"{feature} is registered but no {catalog} plan sells it"
    without = [p for p in ladder if feature not in p.features] or [
        walk.free_copy(
            catalog, f"without_{feature}", features=tuple(f for f in unlock.features if f != feature)
        )
    ]
    having = [p for p in ladder if feature in p.features]
    for probe in FEATURE_PROBES[feature]:
        for plan in without:
            # When a user on a plan without it asks, Then 403 names the plan that unlocks it
            _, h = walk.user_on(plan)
            resp = probe(walk.client, h)
            assert resp.status_code == 403, (plan.plan_id, resp.text)  # type: ignore[attr-defined]
            detail = resp.json()["detail"]  # type: ignore[attr-defined]
            assert f"needs the {unlock.name} plan or higher (you are on {plan.name})" in detail
            assert f'"plan_id": "{unlock.plan_id}"' in detail
        for plan in having:
            # When a user on a plan with it asks, Then it succeeds
            _, h = walk.user_on(plan)
            resp = probe(walk.client, h)
            assert 200 <= resp.status_code < 300, (plan.plan_id, resp.text)  # type: ignore[attr-defined]


# --- limits: each probe gets a user on a plan with the limit at ``n`` and shows n allowed, then a refusal ---


def _alerts(walk: Walk, h: dict[str, str], user: User) -> None:
    assert walk.client.post("/api/alerts", headers=h, json=_expression_alert(["in_app"])).status_code == 201
    over = walk.client.post("/api/alerts", headers=h, json=_expression_alert(["in_app"]))
    assert over.status_code == 403 and "allows 1 active alerts" in over.json()["detail"]


def _scanners(walk: Walk, h: dict[str, str], user: User) -> None:
    body = {"name": "Up", "expression": "close > open", "universe": "demo"}
    assert walk.client.post("/api/scanners", headers=h, json=body).status_code == 201
    over = walk.client.post("/api/scanners", headers=h, json=body)
    assert over.status_code == 403, over.text


def _instruments(walk: Walk, h: dict[str, str], user: User) -> None:
    run = {"expression": "close > 0", "universe": "RELIANCE"}
    assert walk.client.post("/api/scans/run", headers=h, json=run).status_code == 200
    over = walk.client.post("/api/scans/run", headers=h, json={**run, "universe": "RELIANCE,TCS"})
    assert over.status_code == 403 and "up to 1 instruments" in over.json()["detail"]


def _scan_cost(walk: Walk, h: dict[str, str], user: User) -> None:
    cheap = {"expression": "close > 0", "universe": "RELIANCE"}
    assert walk.client.post("/api/scans/run", headers=h, json=cheap).status_code == 200
    heavy = " and ".join(f"[{tf}] rsi({n}) < 30" for tf in ("5m", "15m", "1h") for n in (7, 14))
    over = walk.client.post("/api/scans/run", headers=h, json={**cheap, "expression": heavy})
    assert over.status_code == 403, over.text


def _backtest(start_days_ago: int) -> dict[str, object]:
    """The caller's own bars (the last real RELIANCE sessions, one per day up to today) starting
    ``start_days_ago`` days back: the plan's history window is what is walked here, not the store's coverage."""
    today = ist_from_ms(SystemClock().now_ms()).date()
    n = max(2, start_days_ago + 1)
    real = daily_candles(["RELIANCE"])[-n:]
    bars = [
        {
            "start_ms": session_start_ms(today - timedelta(days=n - 1 - i)),
            **{k: getattr(c, k) for k in ("open_paise", "high_paise", "low_paise", "close_paise", "volume")},
        }
        for i, c in enumerate(real)
    ]
    return {"strategy": "sma_cross", "series": [{"symbol": "RELIANCE", "bars": bars}]}


def _history_days(walk: Walk, h: dict[str, str], user: User) -> None:
    over = walk.client.post("/api/backtests", headers=h, json=_backtest(30))
    assert over.status_code == 403 and "up to 1 days of history" in over.json()["detail"]
    assert walk.client.post("/api/backtests", headers=h, json=_backtest(1)).status_code == 202


def _concurrent(walk: Walk, h: dict[str, str], user: User) -> None:
    assert walk.client.post("/api/backtests", headers=h, json=_backtest(5)).status_code == 202
    over = walk.client.post("/api/backtests", headers=h, json=_backtest(5))
    assert over.status_code == 403, over.text


def _calls(walk: Walk, h: dict[str, str], user: User) -> None:
    first = walk.client.get("/api/alerts", headers=h)
    assert first.status_code == 200 and first.headers["x-ratelimit-limit"] == "1"
    over = walk.client.get("/api/alerts", headers=h)
    assert over.status_code == 429 and "retry-after" in over.headers


def _sms(walk: Walk, h: dict[str, str], user: User) -> None:
    walk.container.users.save_preferences(
        user.user_id, Preferences(sms=True, phone_e164="+919876500002", phone_verified_ms=1)
    )

    def fire(trigger_id: str) -> list[str]:
        event = AlertTriggered(
            event_id=trigger_id,
            trigger_id=trigger_id,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            alert_id="alr_walk",
            symbol="TCS",
            condition="above",
            level="1.00",
            price="3900.00",
            tick_id="t",
            tick_ts_ms=SystemClock().now_ms(),
            channels=[Channel.IN_APP, Channel.SMS],
        )
        return walk.container.dispatcher.deliver(event).delivered

    assert fire(f"trg_{user.user_id}_1") == ["in_app", "sms"]
    assert fire(f"trg_{user.user_id}_2") == ["in_app"]  # the second SMS of the month is over the allowance


def _watchlists(walk: Walk, h: dict[str, str], user: User) -> None:
    assert walk.client.post("/api/watchlists", headers=h, json={"name": "one"}).status_code == 201
    over = walk.client.post("/api/watchlists", headers=h, json={"name": "two"})
    assert over.status_code == 403 and "allows 1 watchlists (limit watchlists)" in over.json()["detail"]


def _watchlist_symbols(walk: Walk, h: dict[str, str], user: User) -> None:
    made = walk.client.post("/api/watchlists", headers=h, json={"name": "one", "symbols": ["RELIANCE"]})
    assert made.status_code == 201, made.text
    path = f"/api/watchlists/{made.json()['watchlist_id']}/symbols"
    over = walk.client.post(path, headers=h, json={"symbols": ["TCS"]})
    assert over.status_code == 403 and "allows 1 symbols per watchlist (limit watchlist_symbols)" in over.text


LIMIT_PROBES: dict[str, tuple[int, Callable[[Walk, dict[str, str], User], None]]] = {
    "alerts": (1, _alerts),
    "scanners": (1, _scanners),
    "instruments": (1, _instruments),
    "scan_cost": (40, _scan_cost),
    "backtest_history_days": (1, _history_days),
    "concurrent_backtests": (1, _concurrent),
    "api_calls_per_hour": (1, _calls),
    "sms_per_month": (1, _sms),
    "watchlists": (1, _watchlists),
    "watchlist_symbols": (1, _watchlist_symbols),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_limit_is_enforced_just_past_its_value(walk: Walk, limit: str) -> None:
    # Given a plan (the free plan with every feature) whose limit is small
    n, probe = LIMIT_PROBES[limit]
    top = max((p for p in CATALOG if p.catalog == "INR"), key=lambda p: p.rank)
    plan = walk.free_copy("INR", limit, limits={**top.limits, limit: n})
    user, h = walk.user_on(plan)
    # When the user uses it up, Then what is within the limit succeeds and the next one is refused
    probe(walk, h, user)


def test_what_is_not_built_yet_is_listed_as_coming_soon_and_never_granted(walk: Walk) -> None:
    _, h = walk.user_on(next(p for p in CATALOG if p.plan_id == "institutional"))
    for catalog in ("INR", "USD"):
        # When the catalog is read over the API
        listed = walk.client.get(f"/api/billing/plans?catalog={catalog}", headers=h)
        assert listed.status_code == 200, listed.text
        by_id = {p["plan_id"]: p for p in listed.json()}
        for plan in (p for p in CATALOG if p.catalog == catalog):
            shown = by_id[plan.plan_id]
            # Then each plan shows its coming-soon features and limits apart from what it sells
            assert shown["coming_soon"]["features"] == list(plan.coming_soon.features)
            assert set(shown["coming_soon"]["features"]).isdisjoint(shown["features"])
            assert set(shown["coming_soon"]["limits"]).isdisjoint(shown["limits"])
            # And asking for one of them is refused as not available yet, on the plan that announces it
            for feature in plan.coming_soon.features:
                with pytest.raises(Forbidden, match="not available yet"):
                    walk.container.plan_catalog.require(plan, feature)
    assert json.dumps(by_id)  # the answer is plain JSON
