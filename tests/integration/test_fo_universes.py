"""F&O reports over the real stand-ins: the exchange's own F&O bhavcopies loaded by `mantra history load` into
DynamoDB Local, then the API's `fno` universe, a lot size as of a date, and the 422s for what no report covers."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from mantra.cli.main import app
from mantra.clock import SystemClock
from mantra.container import Container
from mantra.settings import Settings
from mantra.store.repositories import DynamoUserRepository
from nse_files import nse_data_dir
from typer.testing import CliRunner

from frontend_api.app import create_app

runner = CliRunner()


def _rows(path: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as z:
        return list(csv.DictReader(io.StringIO(z.read(z.namelist()[0]).decode())))


def _near_lot(rows: list[dict[str, str]], symbol: str) -> int:
    return min(
        (r["XpryDt"], int(r["NewBrdLotQty"]))
        for r in rows
        if r["TckrSymb"] == symbol and r["FinInstrmTp"] in ("STF", "IDF")
    )[1]


def test_a_loaded_fo_report_gives_the_fno_universe_and_lot_sizes_through_the_api(
    platform: Settings, tmp_path: Path
) -> None:
    # Given the first and the last real F&O reports, loaded as a user loads them
    reports = sorted((nse_data_dir() / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))
    # not the first: test_eod_history loads that one and counts it as new
    first, last = (Path(shutil.copy(p, tmp_path / p.name)) for p in (reports[1], reports[-1]))
    loaded = runner.invoke(app, ["history", "load", str(first), str(last)])
    assert loaded.exit_code == 0, loaded.output
    flat = " ".join(loaded.output.split())
    first_rows, last_rows = _rows(first), _rows(last)
    assert f"{len(first_rows) + len(last_rows):,} F&O contracts" in flat
    assert "not stored yet" not in flat
    day0, day1 = (date.fromisoformat(r[0]["TradDt"]) for r in (first_rows, last_rows))

    # a fresh API process (its universes are cached for a minute)
    container = Container(platform, SystemClock())
    client = TestClient(create_app(platform, container))
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {issuer.issue(pro, container.clock.now_ms() // 1000)}"}

    # When the universes are listed, fno is the stock-future underlyings of the latest stored report
    assert client.get("/api/universes").status_code == 401
    res = client.get("/api/universes", headers=h)
    assert res.status_code == 200, res.text
    listed = {u["name"]: u for u in res.json()}
    fno = listed["fno"]
    # nse_eq: the EQ symbols the demo seed stored (the demo and NIFTY 50 names), as of its newest session
    newest_cm = max(
        datetime.strptime(p.stem[-8:], "%d%m%Y").date()
        for p in (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv")
    )
    assert {"RELIANCE", "TCS"} <= set(listed["nse_eq"]["symbols"])
    assert listed["nse_eq"]["as_of"] == newest_cm.isoformat()
    stf = {r["TckrSymb"] for r in last_rows if r["FinInstrmTp"] == "STF"}
    assert set(fno["symbols"]) == stf and fno["size"] == len(stf) and fno["as_of"] == day1.isoformat()
    assert last.name in fno["source"]

    # and a lot size as of a date comes from the report on or before it
    for as_of, rows, session in ((day0, first_rows, day0), (day1 - timedelta(days=1), first_rows, None)):
        got = client.get("/api/fno/RELIANCE", params={"as_of": as_of.isoformat()}, headers=h)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["lot_size"] == _near_lot(rows, "RELIANCE") and body["session"] <= as_of.isoformat()
        if session is not None:
            assert body["session"] == session.isoformat()
            nifty_expiries = sorted({r["XpryDt"] for r in rows if r["TckrSymb"] == "RELIANCE"})
            assert [e["expiry"] for e in body["expiries"]] == nifty_expiries
    nifty = client.get("/api/fno/NIFTY", params={"as_of": day1.isoformat()}, headers=h).json()
    assert nifty["lot_size"] == _near_lot(last_rows, "NIFTY") and nifty["session"] == day1.isoformat()

    # Then what no stored report covers answers 422 naming the underlying and the date
    before = day0 - timedelta(days=30)
    refused = client.get("/api/fno/NIFTY", params={"as_of": before.isoformat()}, headers=h)
    assert refused.status_code == 422 and "NIFTY" in refused.text and before.isoformat() in refused.text
    unknown = client.get("/api/fno/NOSUCHSTOCK", params={"as_of": day1.isoformat()}, headers=h)
    assert unknown.status_code == 422 and "NOSUCHSTOCK" in unknown.text

    # and a scan runs on fno, while an unknown universe lists the known ones, fno among them
    scan = client.post("/api/scans/run", headers=h, json={"expression": "close > 0", "universe": "fno"})
    assert scan.status_code == 200, scan.text
    assert scan.json()["scanned"] == len(stf)
    bad = client.post("/api/scans/run", headers=h, json={"expression": "close > 0", "universe": "nifty500"})
    assert bad.status_code == 422 and all(n in bad.text for n in ("fno", "nse_eq", "nifty50"))
