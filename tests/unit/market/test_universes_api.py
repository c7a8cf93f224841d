"""GET /api/universes and GET /api/fno/{underlying}: signed-in only, data from the stored reports, 422 naming
what no stored report covers. TestClient over an in-memory store (no sockets)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from fo_fakes import MemoryEqHistory, MemoryFoStore, fo_files, raw_rows
from mantra.auth.tokens import DevIssuer
from mantra.clock import ManualClock
from mantra.domain import Role, User
from mantra.market.eod import EodLoader
from mantra.market.fo_contracts import FoLookup
from mantra.market.universes import UniverseCatalog
from mantra.settings import Settings
from nse_files import MemoryCandles, nse_data_dir
from timebase import NOW_MS

from frontend_api.app import create_app

USER = User(
    user_id="usr_a",
    email="a@demo.in",
    name="a",
    tenant_id="ten_a",
    roles=frozenset({Role.TRADER}),
    plan_id="pro",
)


class Users:
    def get(self, user_id: str) -> User | None:
        return USER if user_id == USER.user_id else None


@dataclass
class Container:
    clock: ManualClock = field(default_factory=lambda: ManualClock(NOW_MS))

    def __post_init__(self) -> None:
        self.users = Users()
        self.fo, self.eq = MemoryFoStore(), MemoryEqHistory()
        EodLoader(MemoryCandles(), fo=self.fo, eq=self.eq).load_file(fo_files()[-1])
        self.universes = UniverseCatalog(self.fo, self.eq)
        self.fo_lookup = FoLookup(self.fo)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("keys") / "dev.pem"
    DevIssuer.from_file(path, "https://issuer.test/auth", "client-test", 3600)
    return path


@pytest.fixture(scope="module")
def api(key_file) -> tuple[TestClient, dict[str, str]]:  # type: ignore[no-untyped-def]
    settings = Settings(
        dev_issuer_key_file=key_file, auth_issuer="https://issuer.test/auth", auth_client_id="client-test"
    )
    container = Container()
    client = TestClient(create_app(settings, container), raise_server_exceptions=False)  # type: ignore[arg-type]
    token = client.app.state.dev_issuer.issue(USER, NOW_MS // 1000)  # type: ignore[attr-defined]
    return client, {"Authorization": f"Bearer {token}"}


def raw_index_rows() -> list[dict[str, str]]:
    with (nse_data_dir() / "index_constituents.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _session() -> date:
    return date.fromisoformat(raw_rows(fo_files()[-1])[0]["TradDt"])


def test_universes_need_a_signed_in_user_and_list_name_description_size_source_and_date(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    assert client.get("/api/universes").status_code == 401
    res = client.get("/api/universes", headers=auth)
    assert res.status_code == 200, res.text
    by_name = {u["name"]: u for u in res.json()}
    stf = {r["TckrSymb"] for r in raw_rows(fo_files()[-1]) if r["FinInstrmTp"] == "STF"}
    fno = by_name["fno"]
    assert fno["size"] == len(stf) and set(fno["symbols"]) == stf and fno["as_of"] == _session().isoformat()
    assert fo_files()[-1].name in fno["source"] and fno["description"]
    assert by_name["nse_eq"]["size"] == 0 and by_name["nse_eq"]["as_of"] is None  # no equity day stored
    published = raw_index_rows()[0]["DOWNLOAD_DATE"]  # "14-09-2025": the exchange's download date
    assert by_name["nifty50"]["size"] == 50
    assert by_name["nifty50"]["as_of"] == "-".join(reversed(published.split("-")))


def test_lot_size_expiries_and_strikes_of_an_underlying_as_of_a_date(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    assert client.get("/api/fno/NIFTY").status_code == 401
    day = _session()
    res = client.get("/api/fno/nifty", params={"as_of": day.isoformat()}, headers=auth)
    assert res.status_code == 200, res.text
    body = res.json()
    nifty = [r for r in raw_rows(fo_files()[-1]) if r["TckrSymb"] == "NIFTY"]
    near_future = min((r["XpryDt"], r["NewBrdLotQty"]) for r in nifty if r["FinInstrmTp"] == "IDF")
    assert body["underlying"] == "NIFTY" and body["session"] == day.isoformat()
    assert body["lot_size"] == int(near_future[1])
    assert [e["expiry"] for e in body["expiries"]] == sorted({r["XpryDt"] for r in nifty})
    assert body["strike_step"] is not None and "." in body["expiries"][0]["strikes"][0]


def test_a_date_or_underlying_no_stored_report_covers_answers_422_naming_both(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    before = _session() - timedelta(days=1)
    res = client.get("/api/fno/NIFTY", params={"as_of": before.isoformat()}, headers=auth)
    assert res.status_code == 422 and "NIFTY" in res.text and before.isoformat() in res.text
    res = client.get("/api/fno/NOSUCHSTOCK", params={"as_of": _session().isoformat()}, headers=auth)
    assert res.status_code == 422 and "NOSUCHSTOCK" in res.text and _session().isoformat() in res.text
