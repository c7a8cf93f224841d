"""The FastAPI app over TestClient with an in-memory container: auth, validation, tenancy, errors, health."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from core_fakes import (
    SESSION_10AM,
    FakeClock,
    InMemoryAlerts,
    InMemoryCandles,
    InMemoryFeedStatus,
    InMemoryInstruments,
    InMemoryNotifications,
    InMemoryPlans,
    InMemoryQuotes,
    InMemoryUsers,
    make_instrument,
    make_plan,
    make_user,
)
from fastapi.testclient import TestClient
from mantra.access.entitlements import PlanCatalog
from mantra.alerts.inbox import InboxService
from mantra.alerts.service import AlertService
from mantra.auth.passwords import hash_password
from mantra.domain import Candle, FeedStatus, Notification, Quote
from mantra.health import HealthService
from mantra.settings import Settings

from frontend_api.app import create_app

PASSWORD = "mantra-demo"
PUBLIC = {"/api/health", "/auth/token", "/auth/.well-known/jwks.json"}


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class FakeContainer:
    """The attributes the routers use, backed by in-memory fakes."""

    # Tokens are issued at the container's clock but PyJWT checks expiry on the wall clock: keep them equal.
    clock: FakeClock = field(default_factory=lambda: FakeClock(int(time.time() * 1000)))
    users: InMemoryUsers = field(default_factory=InMemoryUsers)
    instruments: InMemoryInstruments = field(
        default_factory=lambda: InMemoryInstruments([make_instrument("RELIANCE"), make_instrument("TCS")])
    )
    quotes: InMemoryQuotes = field(default_factory=InMemoryQuotes)
    alerts: InMemoryAlerts = field(default_factory=InMemoryAlerts)
    notifications: InMemoryNotifications = field(default_factory=InMemoryNotifications)
    feed_status: InMemoryFeedStatus = field(default_factory=InMemoryFeedStatus)
    checks: dict[str, Any] = field(default_factory=lambda: {"dynamodb": lambda: "table reachable"})

    def __post_init__(self) -> None:
        self.candles = InMemoryCandles(self.quotes.candles)
        self.plans = InMemoryPlans([make_plan("pro", alerts=2)])
        self.plan_catalog = PlanCatalog(self.plans, self.clock)
        self.alert_service = AlertService(self.alerts, self.instruments, self.plans, self.clock)
        self.inbox = InboxService(self.notifications)
        self.health = HealthService(self.checks, self.feed_status, self.clock, stale_after_s=5.0)


@pytest.fixture
def container(password_hash: str) -> FakeContainer:
    c = FakeContainer()
    c.users.put(make_user("usr_a", "ten_a", email="a@demo.in"), password_hash, 0)
    c.users.put(make_user("usr_b", "ten_b", email="b@demo.in"), password_hash, 0)
    c.feed_status.heartbeat(
        FeedStatus(
            feed_id="primary",
            provider="simulated",
            state="streaming",
            heartbeat_ms=c.clock.now - 1_000,
            last_tick_ms=c.clock.now - 200,
            ticks_published=10,
            instruments=12,
        )
    )
    return c


@pytest.fixture
def client(container: FakeContainer, dev_key_file) -> TestClient:
    settings = Settings(
        dev_issuer_key_file=dev_key_file, auth_issuer="https://issuer.test/auth", auth_client_id="client-test"
    )
    return TestClient(create_app(settings, container), raise_server_exceptions=False)


def _login(client: TestClient, email: str = "a@demo.in", password: str = PASSWORD):
    return client.post("/auth/token", data={"username": email, "password": password})


def _bearer(client: TestClient, container: FakeContainer, user_id: str) -> dict[str, str]:
    """A token straight from the app's issuer (signing in over HTTP is tested on its own; scrypt is slow)."""
    token = client.app.state.dev_issuer.issue(container.users.get(user_id), container.clock.now // 1000)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_a(client: TestClient, container: FakeContainer) -> dict[str, str]:
    return _bearer(client, container, "usr_a")


@pytest.fixture
def auth_b(client: TestClient, container: FakeContainer) -> dict[str, str]:
    return _bearer(client, container, "usr_b")


GOOD_ALERT = {"symbol": "reliance", "condition": "crosses_above", "price": "1300.50", "channels": ["in_app"]}


# --- authentication -----------------------------------------------------------------------------------------


def test_every_route_except_health_token_and_jwks_answers_401_without_a_token(client: TestClient) -> None:
    # Given every operation the OpenAPI document lists
    paths = client.app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        if path in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            # When called without a token / Then it is refused as unauthenticated, asking for a bearer token
            resp = client.request(method.upper(), url)
            assert resp.status_code == 401, (method, path, resp.text)
            assert resp.headers["www-authenticate"] == "Bearer"
            checked += 1
    assert checked >= 9  # me, instruments, quote, candles, 4 alert operations, 2 notification operations
    assert set(paths) >= PUBLIC


def test_without_a_token_the_401_says_how_to_sign_in(client: TestClient) -> None:
    resp = client.get("/api/alerts")
    assert resp.status_code == 401
    assert "POST /auth/token" in resp.json()["detail"]


def test_a_token_from_post_auth_token_signs_the_user_in(client: TestClient) -> None:
    # Given a seeded user / When they sign in with the password flow
    token = _login(client)
    assert token.status_code == 200
    body = token.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    # Then the token identifies them on protected routes
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "user_id": "usr_a",
        "email": "a@demo.in",
        "name": "User usr_a",
        "tenant_id": "ten_a",
        "roles": ["trader"],
        "plan_id": "pro",
    }


@pytest.mark.parametrize(("email", "password"), [("a@demo.in", "wrong"), ("nobody@demo.in", PASSWORD)])
def test_a_wrong_password_or_unknown_email_gets_the_same_401(client: TestClient, email, password) -> None:
    resp = _login(client, email, password)
    assert resp.status_code == 401
    assert resp.json() == {"detail": "wrong e-mail or password"}


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer ", "Basic YTpi"])
def test_a_bad_authorization_header_is_401(client: TestClient, header: str) -> None:
    assert client.get("/api/me", headers={"Authorization": header}).status_code == 401


def test_a_token_for_a_user_that_no_longer_exists_is_401(client, container, auth_a) -> None:
    del container.users.items["usr_a"]
    resp = client.get("/api/me", headers=auth_a)
    assert resp.status_code == 401 and "no longer exists" in resp.json()["detail"]


def test_jwks_is_public_and_lists_the_signing_key(client: TestClient) -> None:
    resp = client.get("/auth/.well-known/jwks.json")
    assert resp.status_code == 200
    assert [k["alg"] for k in resp.json()["keys"]] == ["RS256"]


# --- alerts: validation and tenancy -------------------------------------------------------------------------


def test_create_alert_stores_exact_paise_and_returns_rupees(client, container, auth_a) -> None:
    resp = client.post("/api/alerts", json={**GOOD_ALERT, "note": "breakout"}, headers=auth_a)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["symbol"], body["price"], body["status"], body["note"]) == (
        "RELIANCE",
        "1300.50",
        "active",
        "breakout",
    )
    stored = container.alerts.get("ten_a", body["alert_id"])
    assert stored.level_paise == 130_050
    listed = client.get("/api/alerts", headers=auth_a).json()
    assert [a["alert_id"] for a in listed] == [body["alert_id"]]


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"price": "1300.505"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "abc"}, "price"),
        ({"condition": "sideways"}, "condition"),
        ({"channels": ["pigeon"]}, "channels.0"),
        ({"channels": ["in_app", "in_app"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"symbol": ""}, "symbol"),
        ({"note": "x" * 281}, "note"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_alert_body_is_422_naming_the_field(client, container, auth_a, change, field_name) -> None:
    # Given an otherwise good alert with one bad field / When posted
    resp = client.post("/api/alerts", json={**GOOD_ALERT, **change}, headers=auth_a)
    # Then it is refused, and the answer says which field is wrong
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert [e["field"] for e in body["errors"]] == [field_name]
    assert body["detail"].startswith(f"{field_name}: ")
    assert container.alerts.items == {}


def test_a_missing_field_is_422_naming_it(client, auth_a) -> None:
    resp = client.post("/api/alerts", json={"symbol": "TCS", "condition": "above"}, headers=auth_a)
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["price"]


def test_an_alert_on_an_unknown_symbol_is_422_naming_the_symbol(client, auth_a) -> None:
    resp = client.post("/api/alerts", json={**GOOD_ALERT, "symbol": "NOPE"}, headers=auth_a)
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("symbol: unknown instrument 'NOPE'")


def test_going_over_the_plan_limit_is_403(client, auth_a) -> None:
    for _ in range(2):
        assert client.post("/api/alerts", json=GOOD_ALERT, headers=auth_a).status_code == 201
    resp = client.post("/api/alerts", json=GOOD_ALERT, headers=auth_a)
    assert resp.status_code == 403 and "allows 2 active alerts" in resp.json()["detail"]


def test_another_tenants_alert_is_404_to_read_and_to_delete(client, container, auth_a, auth_b) -> None:
    # Given tenant A's alert
    alert_id = client.post("/api/alerts", json=GOOD_ALERT, headers=auth_a).json()["alert_id"]
    # When tenant B reads, lists or deletes it / Then it does not exist for B and survives
    assert client.get(f"/api/alerts/{alert_id}", headers=auth_b).status_code == 404
    assert client.delete(f"/api/alerts/{alert_id}", headers=auth_b).status_code == 404
    assert client.get("/api/alerts", headers=auth_b).json() == []
    assert client.get(f"/api/alerts/{alert_id}", headers=auth_a).status_code == 200
    # And the owner can delete it, once
    assert client.delete(f"/api/alerts/{alert_id}", headers=auth_a).status_code == 204
    assert client.delete(f"/api/alerts/{alert_id}", headers=auth_a).status_code == 404


# --- market data and notifications --------------------------------------------------------------------------


def test_a_quote_is_served_in_rupees_with_the_change_from_previous_close(client, container, auth_a) -> None:
    container.quotes.put_many(
        [
            Quote(
                symbol="RELIANCE",
                ltp_paise=131_000,
                open_paise=128_000,
                high_paise=131_500,
                low_paise=127_900,
                prev_close_paise=128_000,
                bid_paise=130_990,
                ask_paise=None,
                volume=500,
                tick_ts_ms=SESSION_10AM,
                tick_id="t",
                seq=3,
                session_date="2026-11-23",
            )
        ]
    )
    body = client.get("/api/quotes/reliance", headers=auth_a).json()
    assert (body["ltp"], body["prev_close"], body["change_pct"], body["ask"]) == (
        "1310.00",
        "1280.00",
        "2.34",
        None,
    )
    assert body["tick_time"].startswith("2026-11-23T04:30:00")
    missing = client.get("/api/quotes/TCS", headers=auth_a)
    assert missing.status_code == 404 and "TCS" in missing.json()["detail"]


def test_candles_are_read_for_the_requested_window_and_timeframe(client, container, auth_a) -> None:
    container.candles.put_many(
        [
            Candle(
                symbol="TCS",
                timeframe="5m",
                start_ms=SESSION_10AM,
                open_paise=100,
                high_paise=110,
                low_paise=90,
                close_paise=105,
                volume=7,
                ticks=3,
                first_tick_ms=SESSION_10AM,
                last_tick_ms=SESSION_10AM + 1,
            )
        ]
    )
    resp = client.get(
        "/api/candles/tcs",
        params={
            "tf": "5m",
            "from": "2026-11-23T09:15:00+05:30",
            "to": "2026-11-23T15:30:00+05:30",
            "limit": 10,
        },
        headers=auth_a,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["symbol"], body["timeframe"], len(body["candles"])) == ("TCS", "5m", 1)
    assert body["candles"][0]["close"] == "1.05"
    assert container.candles.range_calls[-1][:2] == ("TCS", "5m")


@pytest.mark.parametrize(
    ("params", "starts"),
    [
        ({"tf": "2m"}, "tf:"),
        ({"from": "2026-11-23T09:15:00"}, "from/to:"),
        ({"from": "2026-11-24T00:00:00Z", "to": "2026-11-23T00:00:00Z"}, "from:"),
    ],
)
def test_bad_candle_queries_are_422_naming_the_parameter(client, auth_a, params, starts) -> None:
    resp = client.get("/api/candles/TCS", params=params, headers=auth_a)
    assert resp.status_code == 422 and resp.json()["detail"].startswith(starts)


def test_notifications_are_per_user_and_marking_anothers_is_404(client, container, auth_a, auth_b) -> None:
    container.notifications.put_if_absent(
        Notification(
            notification_id="trg_1",
            tenant_id="ten_a",
            user_id="usr_a",
            kind="alert.triggered",
            title="t",
            body="b",
            data={},
            read=False,
            created_ms=SESSION_10AM,
        )
    )
    assert [n["notification_id"] for n in client.get("/api/notifications", headers=auth_a).json()] == [
        "trg_1"
    ]
    assert client.get("/api/notifications", headers=auth_b).json() == []
    assert client.post("/api/notifications/trg_1/read", headers=auth_b).status_code == 404
    assert client.post("/api/notifications/trg_1/read", headers=auth_a).status_code == 204
    assert client.get("/api/notifications", params={"unread": True}, headers=auth_a).json() == []


# --- errors and health --------------------------------------------------------------------------------------


def test_an_unknown_route_is_a_json_404(client: TestClient) -> None:
    resp = client.get("/api/does-not-exist")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"detail": "Not Found"}


def test_an_unexpected_error_is_a_500_with_a_reference_and_no_traceback(client, container, auth_a) -> None:
    # Given a repository that blows up with internals in its message
    def explode(symbol: str):
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    container.quotes.get = explode
    # When a route hits it
    resp = client.get("/api/quotes/RELIANCE", headers=auth_a)
    # Then the client gets a 500 with an error reference only
    assert resp.status_code == 500
    assert re.fullmatch(r"internal error \(reference [0-9a-f]{12}\)", resp.json()["detail"])
    assert "Traceback" not in resp.text and "hunter2" not in resp.text and "RuntimeError" not in resp.text


def test_health_is_public_and_200_when_every_component_is_up(client: TestClient) -> None:
    resp = client.get("/api/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] is True
    assert [c["name"] for c in body["components"]] == ["dynamodb", "feed"]


def test_health_is_503_naming_the_failed_component(client, container) -> None:
    # Given the DynamoDB check fails
    def down() -> str:
        raise ConnectionError("dynamodb unreachable")

    container.checks["dynamodb"] = down
    # When health is asked / Then it is 503, the failed part says why, and the others are still reported
    resp = client.get("/api/health")
    assert resp.status_code == 503
    parts = {c["name"]: c for c in resp.json()["components"]}
    assert parts["dynamodb"]["ok"] is False
    assert parts["dynamodb"]["detail"] == "ConnectionError: dynamodb unreachable"
    assert parts["feed"]["ok"] is True


def test_health_is_503_when_the_feed_heartbeat_is_stale(client, container) -> None:
    container.clock.advance(10_000)
    resp = client.get("/api/health")
    assert resp.status_code == 503
    feed = next(c for c in resp.json()["components"] if c["name"] == "feed")
    assert not feed["ok"] and "stale after 5s" in feed["detail"]
