"""Corporate actions over the real stand-ins: `mantra history load` stores the exchange's real bc files' and a
history download's factors in DynamoDB Local beside the real daily reports; the candles API answers adjusted
daily bars by default (as traded with ``adjusted=false``, or when the read ends before the ex-date), and scans
evaluate the adjusted close."""

from __future__ import annotations

import shutil
from datetime import date
from fractions import Fraction
from pathlib import Path

from fastapi.testclient import TestClient
from mantra.cli.main import app
from mantra.clock import SystemClock, ist_from_ms
from mantra.container import Container
from mantra.market.eod import session_start_ms
from mantra.market.history import HistoryLoader
from mantra.market.universes import Universe
from mantra.quant.scanner import compile_scan, run_compiled
from mantra.settings import Settings
from mantra.store.corporate_action_repository import DynamoCorporateActions
from mantra.store.history_repository import DynamoHistoryLoads
from mantra.store.repositories import DynamoUserRepository
from nse_files import nse_data_dir
from typer.testing import CliRunner

from frontend_api.app import create_app

runner = CliRunner()
SPLIT = "FACE VALUE SPLIT (SUB-DIVISION) - FROM RS 10/- PER SHARE TO RS 2/- PER SHARE"
HISTORY = (
    '"SYMBOL","COMPANY NAME","SERIES","PURPOSE","FACE VALUE","EX-DATE","RECORD DATE","BC START DATE",'
    '"BC END DATE"\n'
    f'"SHRIRAMFIN","Shriram Finance Limited","EQ","{SPLIT}","2","10-Jan-2025","10-Jan-2025","-","-"\n'
)
JAN = ("06012025", "07012025", "08012025", "09012025", "10012025", "13012025")


def _files(tmp_path: Path) -> Path:
    """Six real January sessions around SHRIRAMFIN's split (the first 300 rows of each file as published, and
    SHRIRAMFIN's), the real bc files and a history download."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for d in JAN:
        name = f"sec_bhavdata_full_{d}.csv"
        lines = (nse_data_dir() / "equity" / name).read_text().splitlines(keepends=True)
        mine = [line for line in lines[301:] if line.startswith("SHRIRAMFIN,")]
        (folder / name).write_text("".join([*lines[:301], *mine]))
    for p in (nse_data_dir() / "corporate_actions").glob("bc*.csv"):
        shutil.copy(p, folder / p.name)
    (folder / "CF-CA-equities.csv").write_text(HISTORY)
    return folder


def _raw_close(day: str, symbol: str) -> int:
    for line in (nse_data_dir() / "equity" / f"sec_bhavdata_full_{day}.csv").read_text().splitlines()[1:]:
        cells = [c.strip() for c in line.split(",")]
        if cells[0] == symbol and cells[1] == "EQ":
            return round(Fraction(cells[8]) * 100)
    raise AssertionError(f"{symbol} not in {day}")


def test_factors_are_loaded_once_and_daily_bars_read_adjusted(platform: Settings, tmp_path: Path) -> None:
    folder = _files(tmp_path)
    version = DynamoHistoryLoads().current()
    first = runner.invoke(app, ["history", "load", str(folder)])
    flat = " ".join(first.output.split())
    assert first.exit_code == 0, first.output
    assert "corporate-action factors" in flat
    assert "KRISHIVAL" in flat and "face value" in flat  # the bc file's rights: reported, not guessed
    assert DynamoHistoryLoads().current() > version  # cached daily bars are read again
    stored = {(f.symbol, f.ex_date.isoformat(), f.ratio) for f in DynamoCorporateActions().all()}
    assert {
        ("SHRIRAMFIN", "2025-01-10", Fraction(5)),
        ("LALPATHLAB", "2025-12-19", Fraction(2)),
        ("NUVAMA", "2025-12-26", Fraction(5)),
        ("KMEW", "2025-12-22", Fraction(2)),
    } <= stored
    again = runner.invoke(app, ["history", "load", "--force", str(folder)])
    assert again.exit_code == 0, again.output
    assert len(DynamoCorporateActions().all()) == len(stored)  # the same actions again: nothing new

    # a fresh API process after the load (a running one sees new factors within the factor book's recheck,
    # 60 s: mantra.market.adjustments.FactorBook)
    container = Container(platform, SystemClock())
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    client = TestClient(create_app(platform, container))
    issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {issuer.issue(pro, container.clock.now_ms() // 1000)}"}
    window = {"tf": "1d", "from": "2025-01-06T00:00:00+05:30", "to": "2025-01-13T23:59:59+05:30"}

    adjusted = client.get("/api/candles/SHRIRAMFIN", headers=h, params=window)
    assert adjusted.status_code == 200, adjusted.text
    body = adjusted.json()
    assert body["adjusted"] is True
    assert [(a["ex_date"], a["factor"]) for a in body["actions"]] == [("2025-01-10", "5")]
    closes = [c["close"] for c in body["candles"]]
    want = [
        Fraction(_raw_close(d, "SHRIRAMFIN"), 5) if int(d[:2]) < 10 else Fraction(_raw_close(d, "SHRIRAMFIN"))
        for d in JAN
    ]
    assert closes == [f"{round(w) / 100:.2f}" for w in want]
    jump = Fraction(closes[4]) / Fraction(closes[3])
    assert 0.8 < jump < 1.25  # the split is no crash

    traded = client.get("/api/candles/SHRIRAMFIN", headers=h, params={**window, "adjusted": "false"})
    assert traded.json()["adjusted"] is False and traded.json()["actions"] == []
    assert [c["close"] for c in traded.json()["candles"]] == [
        f"{_raw_close(d, 'SHRIRAMFIN') / 100:.2f}" for d in JAN
    ]
    # read as of the day before the ex-date: what was known then, as traded
    then = client.get(
        "/api/candles/SHRIRAMFIN", headers=h, params={**window, "to": "2025-01-09T23:59:59+05:30"}
    )
    assert then.json()["actions"] == []
    assert [c["close"] for c in then.json()["candles"]] == [
        f"{_raw_close(d, 'SHRIRAMFIN') / 100:.2f}" for d in JAN[:4]
    ]

    # scans read adjusted bars: on the 13th the close sits near its 3-session average once the split is
    # applied (as traded, the average is still ~2.3x the close), and as of the 9th (split not yet known) every
    # close is as traded and near its average too
    near_average = compile_scan("close > 0.8 * sma(close, 3) and close < 1.25 * sma(close, 3)", "1d")
    one = Universe("shriramfin", ("SHRIRAMFIN",), benchmark=None)
    for day in (date(2025, 1, 13), date(2025, 1, 9)):
        run = container.scans.execute(near_average, one, session_start_ms(day))
        assert ist_from_ms(run.bar_ms or 0).date() == day
        assert [hit.symbol for hit in run.hits] == ["SHRIRAMFIN"], day
    as_traded = HistoryLoader(container.candles).load(
        one, "1d", near_average.needs, session_start_ms(date(2025, 1, 13))
    )
    assert not run_compiled(near_average, as_traded).matches  # what the unadjusted bars would have said
