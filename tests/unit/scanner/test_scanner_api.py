"""Scanner routes over TestClient: authentication, 422 with positions, 403 limits, tenant isolation, signals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from mantra.access.entitlements import PlanCatalog
from mantra.auth.tokens import DevIssuer
from mantra.clock import IST, ManualClock
from mantra.market.history import HistoryLoader
from mantra.market.universes import UniverseCatalog, universe
from mantra.scans.service import ScanService
from mantra.settings import Settings
from nse_files import MemoryCandles, daily_candles, daily_panel
from scan_fakes import Outbox, Plans, Scanners, Signals, plan, user

from frontend_api.app import create_app


class Users:
    def __init__(self, users) -> None:
        self.items = {u.user_id: u for u in users}

    def get(self, user_id):
        return self.items.get(user_id)


STORED = MemoryCandles(daily_candles(list(universe("demo").symbols)))


@dataclass
class Container:
    clock: ManualClock = field(default_factory=lambda: ManualClock(int(time.time() * 1000)))

    def __post_init__(self) -> None:
        self.users = Users([user("usr_a", "ten_a", "starter"), user("usr_b", "ten_b", "pro")])
        self.scanners, self.signal_store, self.outbox = Scanners(), Signals(), Outbox()
        plans = Plans([plan("starter", scanners=1, instruments=50), plan("pro", scanners=25)])
        self.scans = ScanService(
            self.scanners, self.signal_store, plans, self.outbox, HistoryLoader(STORED), self.clock
        )
        self.plan_catalog = PlanCatalog(plans, self.clock)
        self.universes = UniverseCatalog()  # no stored reports: fno and nse_eq are listed empty


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "dev.pem"
    DevIssuer.from_file(path, "https://issuer.test/auth", "client-test", 3600)
    return path


@pytest.fixture
def container() -> Container:
    return Container()


@pytest.fixture
def client(container, key_file) -> TestClient:
    settings = Settings(
        dev_issuer_key_file=key_file, auth_issuer="https://issuer.test/auth", auth_client_id="client-test"
    )
    return TestClient(create_app(settings, container), raise_server_exceptions=False)  # type: ignore[arg-type]


def _auth(client: TestClient, container: Container, user_id: str) -> dict[str, str]:
    token = client.app.state.dev_issuer.issue(container.users.get(user_id), container.clock.now // 1000)
    return {"Authorization": f"Bearer {token}"}


ROUTES = [
    ("get", "/api/scans/presets"),
    ("post", "/api/scans/run"),
    ("get", "/api/scanners"),
    ("post", "/api/scanners"),
    ("get", "/api/scanners/scn_x"),
    ("patch", "/api/scanners/scn_x"),
    ("delete", "/api/scanners/scn_x"),
    ("get", "/api/signals"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_scanner_route_needs_a_token(client, method, path):
    assert getattr(client, method)(path).status_code == 401


def test_presets_are_listed(client, container):
    res = client.get("/api/scans/presets", headers=_auth(client, container, "usr_a"))
    assert res.status_code == 200 and len(res.json()) >= 20
    assert {"preset_id", "expression", "timeframe"} <= set(res.json()[0])


def test_run_returns_matches_with_exact_rupees(client, container):
    res = client.post(
        "/api/scans/run",
        json={"expression": "close > 0", "universe": "RELIANCE,TCS"},
        headers=_auth(client, container, "usr_a"),
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert {m["symbol"] for m in body["matches"]} == {"RELIANCE", "TCS"}
    panel = daily_panel(["RELIANCE", "TCS"])
    reliance = next(m for m in body["matches"] if m["symbol"] == "RELIANCE")
    assert reliance["close"] == f"{panel.close[-1, 0]:.2f}"  # the real close, exact to the paisa
    assert body["as_of"] == panel.days[-1].isoformat()
    assert body["data"] == {
        "source": "stored",
        "complete": True,
        "no_data": [],
        "short_history": {},
        "stale": {},
    }


def test_run_as_of_a_session_and_reports_what_the_store_lacks(client, container):
    panel = daily_panel(["RELIANCE", "TCS"])
    day = panel.days[50]
    res = client.post(
        "/api/scans/run",
        json={"expression": "close > 0", "universe": "RELIANCE,TCS,WIPRO", "as_of": day.isoformat()},
        headers=_auth(client, container, "usr_a"),
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["as_of"] == day.isoformat()
    tcs = next(m for m in body["matches"] if m["symbol"] == "TCS")
    assert tcs["close"] == f"{panel.close[50, 1]:.2f}"
    # WIPRO is a known NIFTY 50 name with no stored bars here: reported, not matched, not invented
    assert body["data"]["complete"] is False and body["data"]["no_data"] == ["WIPRO"]
    assert {m["symbol"] for m in body["matches"]} == {"RELIANCE", "TCS"}
    bad = client.post(
        "/api/scans/run",
        json={"expression": "close > 0", "as_of": "2025-13-01"},
        headers=_auth(client, container, "usr_a"),
    )
    assert bad.status_code == 422 and "as_of" in bad.text


def test_bad_expression_answers_422_with_line_and_column(client, container):
    res = client.post(
        "/api/scans/run", json={"expression": "(rsi(14) < 30"}, headers=_auth(client, container, "usr_a")
    )
    assert res.status_code == 422
    assert res.json()["detail"] == "line 1, col 14: expected ')', found the end of the expression"


def test_unknown_function_answers_422_with_a_suggestion(client, container):
    res = client.post(
        "/api/scans/run", json={"expression": "rsx(14) < 30"}, headers=_auth(client, container, "usr_a")
    )
    assert res.status_code == 422 and "did you mean 'rsi'?" in res.json()["detail"]


def test_expression_too_expensive_for_the_plan_answers_403(client, container):
    heavy = " and ".join(f"[{tf}] rsi({n}) < 30" for tf in ("5m", "15m", "1h") for n in (7, 14))
    res = client.post("/api/scans/run", json={"expression": heavy}, headers=_auth(client, container, "usr_a"))
    assert res.status_code == 403 and "Starter plan allows 40" in res.json()["detail"]


def test_saved_scanner_limit_answers_403(client, container):
    h = _auth(client, container, "usr_a")
    body = {"name": "oversold", "expression": "rsi(14) < 30", "universe": "demo"}
    assert client.post("/api/scanners", json=body, headers=h).status_code == 201
    res = client.post("/api/scanners", json=body, headers=h)
    assert res.status_code == 403 and "allows 1 saved scanners" in res.json()["detail"]


def test_scanner_crud_and_another_tenant_gets_404(client, container):
    a, b = _auth(client, container, "usr_a"), _auth(client, container, "usr_b")
    created = client.post(
        "/api/scanners",
        json={"name": "x", "expression": "close > 0", "universe": "demo", "schedule": "5m"},
        headers=a,
    ).json()
    sid = created["scanner_id"]
    assert created["schedule"] == "5m" and created["cost"] > 0
    for method, kwargs in (("get", {}), ("patch", {"json": {"name": "y"}}), ("delete", {})):
        assert getattr(client, method)(f"/api/scanners/{sid}", headers=b, **kwargs).status_code == 404
    assert client.post("/api/scans/run", json={"scanner_id": sid}, headers=b).status_code == 404
    assert client.get("/api/scanners", headers=b).json() == []
    patched = client.patch(f"/api/scanners/{sid}", json={"expression": "close > 1"}, headers=a)
    assert patched.status_code == 200 and patched.json()["expression"] == "close > 1"
    assert client.patch(f"/api/scanners/{sid}", json={"expression": "close >"}, headers=a).status_code == 422
    assert client.delete(f"/api/scanners/{sid}", headers=a).status_code == 204
    assert client.get(f"/api/scanners/{sid}", headers=a).status_code == 404


def test_signals_of_a_scheduled_run_are_listed_for_their_tenant_only(client, container):
    a, b = _auth(client, container, "usr_a"), _auth(client, container, "usr_b")
    client.post(
        "/api/scanners",
        json={"name": "all", "expression": "close > 0", "universe": "demo", "schedule": "1m"},
        headers=a,
    )
    container.scans.run_due(datetime(2026, 11, 23, 10, 1, tzinfo=IST))
    mine = client.get("/api/signals", headers=a).json()
    assert len(mine) == 10 and {s["scanner_name"] for s in mine} == {"all"}
    assert all("." in s["price"] for s in mine)
    assert client.get("/api/signals", headers=b).json() == []


def test_bad_body_fields_answer_422_naming_the_field(client, container):
    res = client.post(
        "/api/scanners",
        json={"name": "x", "expression": "close > 0", "timeframe": "2d"},
        headers=_auth(client, container, "usr_a"),
    )
    assert res.status_code == 422 and "timeframe" in res.json()["detail"]


def test_universes_are_listed_to_a_signed_in_user(client, container):
    assert client.get("/api/universes").status_code == 401
    res = client.get("/api/universes", headers=_auth(client, container, "usr_a"))
    assert res.status_code == 200
    by_name = {u["name"]: u for u in res.json()}
    assert by_name["nifty50"]["size"] == 50 and by_name["niftybank"]["title"] == "NIFTY BANK"
    assert "HDFCBANK" in by_name["niftybank"]["symbols"] and "demo" in by_name
    bad = client.post(
        "/api/scans/run",
        json={"expression": "close > 0", "universe": "nifty500"},
        headers=_auth(client, container, "usr_a"),
    )
    assert bad.status_code == 422 and "niftybank" in bad.json()["detail"]
