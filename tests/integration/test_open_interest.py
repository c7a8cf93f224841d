"""Open interest for scans over the real stand-ins: the exchange's F&O bhavcopies loaded as a user loads them
(`mantra history load`) into DynamoDB Local, then each underlying's futures OI per session, as a daily scan
frame carries it, checked against sums taken from the raw files; a session stored before the per-day OI summary
existed is summed from its contracts."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from mantra.cli.main import app
from mantra.clock import IST
from mantra.market.history import HistoryLoader
from mantra.market.universes import Universe
from mantra.settings import Settings
from mantra.store.fo_models import FoContractItem
from mantra.store.fo_repository import OI_SERIES, DynamoFoStore
from nse_files import MemoryCandles, daily_candles, nse_data_dir
from typer.testing import CliRunner

runner = CliRunner()


def _by_hand(paths: list[Path]) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for p in paths:
        with zipfile.ZipFile(p) as z:
            for r in csv.DictReader(io.StringIO(z.read(z.namelist()[0]).decode())):
                if r["FinInstrmTp"] in ("STF", "IDF"):
                    day = date.fromisoformat(r["TradDt"])
                    out[r["TckrSymb"]][day] = out[r["TckrSymb"]].get(day, 0) + int(float(r["OpnIntrst"]))
    return out


def test_futures_oi_per_session_from_loaded_reports(platform: Settings, tmp_path: Path) -> None:
    reports = sorted((nse_data_dir() / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))[2:5]  # others load the rest
    copies = [Path(shutil.copy(p, tmp_path / p.name)) for p in reports]
    loaded = runner.invoke(app, ["history", "load", *map(str, copies)])
    assert loaded.exit_code == 0, loaded.output
    by_hand = _by_hand(copies)
    days = sorted({d for per in by_hand.values() for d in per})

    store = DynamoFoStore()
    got = store.open_interest(3, days[-1])
    assert [s.session for s in got] == days
    for s in got:
        for sym in ("SBIN", "RELIANCE", "NIFTY", "BANKNIFTY"):
            assert s.futures(sym) == by_hand[sym][s.session], (sym, s.session)

    # a day stored before the summary existed: summed from its contracts, with the same figures
    summary = FoContractItem.get(days[1].isoformat(), OI_SERIES)
    assert summary.rows["SBIN"][0] == by_hand["SBIN"][days[1]]
    summary.delete()
    again = store.open_interest(3, days[-1])
    assert [s.by_underlying for s in again] == [s.by_underlying for s in got]
    summary.save()

    # and a daily scan frame carries it on the right bars (the same sessions' real bars, held in memory: the
    # shared store's candles belong to the history tests)
    candles = MemoryCandles(daily_candles(["SBIN", "RELIANCE"]))
    end = int(datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=IST).timestamp() * 1000) - 1
    panel = HistoryLoader(candles, open_interest=store).load(
        Universe("x", ("SBIN", "RELIANCE")), "1d", {"1d": 30}, end, with_oi=True
    )
    frame = panel.frames["1d"]
    assert frame.oi is not None
    on = {datetime.fromtimestamp(int(ms) / 1000, IST).date(): t for t, ms in enumerate(frame.index_ms)}
    for d in days:
        assert frame.oi[on[d], 0] == by_hand["SBIN"][d]
        assert frame.oi[on[d], 1] == by_hand["RELIANCE"][d]
    # any other session with OI is one some report (loaded here or by another test) gave, never a filled gap
    every = _by_hand(sorted((nse_data_dir() / "fo").glob("BhavCopy_NSE_FO_*.csv.zip")))
    for d, t in on.items():
        value = frame.oi[t, 0]
        if value == value:  # not NaN
            assert value == every["SBIN"][d], d
        else:
            assert d not in days
    assert all(frame.oi[on[d], 0] != frame.oi[on[d], 0] for d in on if d < min(every["SBIN"]))
