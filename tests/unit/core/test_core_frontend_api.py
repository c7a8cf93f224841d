"""The FastAPI app over TestClient with an in-memory container: auth, validation, tenancy, errors, health."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import timebase
from account_fakes import InMemoryRefreshTokens, accounts_service
from core_fakes import (
    SESSION_10AM,
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
from mantra.auth.sessions import Sessions
from mantra.clock import ManualClock
from mantra.domain import Candle, FeedStatus, Notification, Quote
from mantra.health import HealthService
from mantra.settings import Settings

from frontend_api.app import create_app

PASSWORD = "mantra-demo"
PUBLIC = {
    "/api/health",
    "/auth/token",
    "/auth/.well-known/jwks.json",
    "/auth/signup",
    "/auth/confirm",
    "/auth/resend",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/refresh",  # the refresh token is the credential
    "/auth/logout",
}


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class FakeContainer:
    """The attributes the routers use, backed by in-memory fakes."""

    # Tokens are issued at the container's clock but PyJWT checks expiry on the wall clock: keep them equal.
    clock: ManualClock = field(default_factory=lambda: ManualClock(int(time.time() * 1000)))
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
        self.sessions = Sessions(InMemoryRefreshTokens(), self.clock)
        self.accounts, self.account_store, self.mailbox, _ = accounts_service(
            self.clock, self.users.items, self.sessions
        )


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
        "mfa_enabled": False,
    }


@pytest.mark.parametrize(("email", "password"), [("a@demo.in", "wrong"), ("nobody@demo.in", PASSWORD)])
def test_a_wrong_password_or_unknown_email_gets_the_same_401(client: TestClient, email, password) -> None:
    resp = _login(client, email, password)
    assert resp.status_code == 401
    assert resp.json() == {"detail": "wrong e-mail or password", "errors": []}


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
                session_date=timebase.SESSION_DAY.isoformat(),
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
    assert body["tick_time"].startswith(f"{timebase.SESSION_DAY.isoformat()}T04:30:00")  # 10:00 IST in UTC
    missing = client.get("/api/quotes/TCS", headers=auth_a)
    assert missing.status_code == 404 and "TCS" in missing.json()["detail"]


def test_candles_answer_the_newest_bars_of_the_window_up_to_the_limit(client, container, auth_a) -> None:
    five = 300_000
    session_open = SESSION_10AM - 9 * five  # 09:15 IST
    container.candles.put_many(
        [
            Candle(
                symbol="TCS",
                timeframe="5m",
                start_ms=session_open + i * five,
                open_paise=100 + i,
                high_paise=110 + i,
                low_paise=90 + i,
                close_paise=105 + i,
                volume=7,
                ticks=3,
                first_tick_ms=session_open + i * five,
                last_tick_ms=session_open + i * five + 1,
            )
            for i in range(75)  # the whole 09:15-15:30 session
        ]
    )
    day = timebase.SESSION_DAY.isoformat()
    resp = client.get(
        "/api/candles/tcs",
        params={"tf": "5m", "from": f"{day}T09:15:00+05:30", "to": f"{day}T15:30:00+05:30", "limit": 10},
        headers=auth_a,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["symbol"], body["timeframe"], len(body["candles"])) == ("TCS", "5m", 10)
    # the last ten bars of the session (15:25 is the 75th), oldest first
    assert [c["close"] for c in body["candles"]] == [f"{(105 + i) / 100:.2f}" for i in range(65, 75)]
    # a window that holds fewer bars than the limit stops at its own start
    short = client.get(
        "/api/candles/tcs",
        params={"tf": "5m", "from": f"{day}T15:00:00+05:30", "to": f"{day}T15:30:00+05:30", "limit": 100},
        headers=auth_a,
    ).json()["candles"]
    assert len(short) == 6 and short[0]["close"] == f"{(105 + 69) / 100:.2f}"


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
    assert resp.json() == {"detail": "Not Found", "errors": []}


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


# --- the error contract: one shape, documented once, on every operation --------------------------------------


@pytest.mark.parametrize("switch", ["recurring", "market_hours_only"])
def test_a_null_switch_on_a_new_alert_means_its_default_not_a_500(client, container, auth_a, switch) -> None:
    # Given an alert whose on/off setting is null, which the schema allows
    # When it is posted
    resp = client.post("/api/alerts", json={**GOOD_ALERT, switch: None}, headers=auth_a)
    # Then it is created with the setting off, as when it is left out
    assert resp.status_code == 201, resp.text
    assert resp.json()[switch] is False
    assert getattr(container.alerts.get("ten_a", resp.json()["alert_id"]), switch) is False


@pytest.mark.parametrize("switch", ["recurring", "market_hours_only"])
def test_a_null_switch_in_an_alert_change_leaves_it_as_it_was(client, auth_a, switch) -> None:
    # Given an alert with the setting on
    created = client.post(
        "/api/alerts", json={**GOOD_ALERT, switch: True, "cooldown_minutes": 30}, headers=auth_a
    )
    assert created.status_code == 201, created.text
    # When a change sends it as null
    resp = client.patch(f"/api/alerts/{created.json()['alert_id']}", json={switch: None}, headers=auth_a)
    # Then nothing breaks and the setting is still on
    assert resp.status_code == 200, resp.text
    assert resp.json()[switch] is True


def _error_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    assert all(set(e) == {"field", "message", "type"} for e in body["errors"])


def test_every_kind_of_error_answers_the_one_error_shape(client, container, auth_a) -> None:
    # Given one request for each way a request fails: no token, unknown alert, a wrong method, a schema error,
    # a domain check
    no_token = client.get("/api/me")
    unknown = client.get("/api/alerts/alr_nope", headers=auth_a)
    wrong_method = client.put("/api/alerts", json={}, headers=auth_a)
    schema_error = client.post("/api/alerts", json={**GOOD_ALERT, "price": "-1"}, headers=auth_a)
    domain_check = client.post("/api/alerts", json={"symbol": "TCS", "condition": "above"}, headers=auth_a)
    # Then each has its status and the same body shape: detail a sentence, errors a list of fields
    answers = [(401, no_token), (404, unknown), (405, wrong_method), (422, schema_error), (422, domain_check)]
    for status, resp in answers:
        assert resp.status_code == status, resp.text
        _error_shape(resp.json())
    # And a schema error and a domain check both name the field, the same way
    assert [e["field"] for e in schema_error.json()["errors"]] == ["price"]
    assert [e["field"] for e in domain_check.json()["errors"]] == ["price"]
    assert no_token.json()["errors"] == [] and unknown.json()["errors"] == []


def test_a_wrong_method_answers_405_allowing_every_method_of_the_path(client, auth_a) -> None:
    # Given a path served by two routes (GET and POST /api/alerts), and one by three
    # When it is called with a method none of them takes
    many = client.put("/api/alerts", json={}, headers=auth_a)
    three = client.post("/api/alerts/alr_x", json={}, headers=auth_a)
    # Then Allow lists every method the path answers, not only the first route's
    assert many.status_code == 405 and many.headers["allow"] == "GET, POST"
    assert three.status_code == 405 and three.headers["allow"] == "DELETE, GET, PATCH"


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{m.upper()} {p}", op) for p, item in document["paths"].items() for m, op in item.items()]


def test_the_openapi_document_has_one_error_model_and_uses_it_for_every_4xx(client) -> None:
    # Given the served document
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    # Then FastAPI's own 422 model, which the API never sends, is gone, and ours is there once
    assert "HTTPValidationError" not in components and "ValidationError" not in components
    assert components["ErrorOut"]["required"] == ["detail"]
    assert components["ErrorOut"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }
    # And every 4xx of every operation answers it
    ops = _operations(document)
    assert len(ops) > 40
    for label, op in ops:
        for status, response in op["responses"].items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (label, status)


def test_every_operation_documents_each_4xx_it_can_answer(client) -> None:
    # Given the served document
    ops = dict(_operations(client.get("/openapi.json").json()))

    def statuses(label: str) -> set[str]:
        return {s for s in ops[label]["responses"] if s.startswith("4")}

    # Then a signed-in operation documents 401, 403 and 429 (with Retry-After), one with a path parameter 404,
    # one with a body 400 and 422
    assert statuses("GET /api/alerts") == {"401", "403", "429"}
    assert statuses("PATCH /api/alerts/{alert_id}") == {"400", "401", "403", "404", "422", "429"}
    assert "Retry-After" in ops["GET /api/alerts"]["responses"]["429"]["headers"]
    assert "WWW-Authenticate" in ops["GET /api/alerts"]["responses"]["401"]["headers"]
    # And what a route declares on top: a conflict, a 404 without a path parameter, a wrong password
    assert "409" in statuses("POST /api/billing/checkout")
    assert {"404", "409"} <= statuses("POST /api/billing/change-plan")
    assert statuses("POST /auth/token") == {"400", "401", "404", "422", "429"}
    # And the public health check documents no 4xx at all
    assert statuses("GET /api/health") == set()


def test_a_body_that_is_not_json_says_line_and_column(client, auth_a) -> None:
    broken = '{\n  "symbol": "RELIANCE",\n  "condition": "above",\n  "price": ,\n}'
    resp = client.post("/api/alerts", content=broken, headers={**auth_a, "Content-Type": "application/json"})
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert detail == "body: not valid JSON at line 4, column 12: Expecting value", detail
    assert resp.json()["errors"][0]["field"] == "body"


def test_a_body_sent_as_another_content_type_is_415_naming_the_one_expected(client, auth_a) -> None:
    resp = client.post(
        "/api/alerts",
        content='{"symbol": "RELIANCE"}',
        headers={**auth_a, "Content-Type": "text/plain"},
    )
    assert resp.status_code == 415
    assert resp.json()["detail"] == "Content-Type: expected application/json, got text/plain"


def test_the_front_door_says_what_this_is_and_where_to_go(client) -> None:
    about = client.get("/")
    assert about.status_code == 200 and about.json()["links"]["docs"] == "/docs"
    assert client.get(about.json()["links"]["health"]).status_code in (200, 503)
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert '<a href="/docs">' in page.text and "/auth/token" in page.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_platform_itself(client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets  # nothing from a CDN or font host
    assert "fonts.googleapis" not in page.text and "cdn.jsdelivr" not in page.text
    for asset in assets:
        if asset.startswith("/static/"):
            got = client.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
