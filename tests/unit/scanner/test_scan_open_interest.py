"""`unusual_oi` and `oi` on daily bars read each underlying's futures open interest from the stored F&O reports
(the exchange's own bhavcopies), checked against sums taken from the raw files by the csv module."""

from __future__ import annotations

import functools
import itertools
import statistics
import sys
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from mantra.clock import IST, ManualClock
from mantra.domain import Candle
from mantra.market.fo_contracts import sessions_of
from mantra.market.history import HistoryLoader
from mantra.market.universes import Universe
from mantra.quant.scanner import compile_scan
from mantra.scans.service import ScanService
from nse_files import MemoryCandles, daily_candles

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from fo_fakes import MemoryFoStore, fo_files, fo_rows, raw_rows


class IndexedCandles(MemoryCandles):
    """MemoryCandles with each series kept apart (the base sorts every item per read: slow for 200 symbols)."""

    def __init__(self, candles: list[Candle]) -> None:
        super().__init__(candles)
        self.by_series: dict[tuple[str, str], list[Candle]] = defaultdict(list)
        for key in sorted(self.items):
            self.by_series[key[:2]].append(self.items[key])

    def _series(self, symbol: str, timeframe: str) -> list[Candle]:
        return self.by_series.get((symbol, timeframe), [])


@functools.cache
def _store() -> MemoryFoStore:
    store = MemoryFoStore()
    for path in fo_files():
        for summary, contracts in sessions_of(fo_rows(path), path.name):
            store.put_session(summary, contracts, 0)
    return store


@functools.cache
def _futures_oi_by_hand() -> dict[str, dict[date, int]]:
    """Per stock, per session: the OpnIntrst of its stock futures (every expiry), straight from the files."""
    out: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for path in fo_files():
        for r in raw_rows(path):
            if r["FinInstrmTp"] == "STF":
                out[r["TckrSymb"]][date.fromisoformat(r["TradDt"])] += int(float(r["OpnIntrst"]))
    return out


def _end_ms(day: date) -> int:
    return int(datetime.combine(day + timedelta(days=1), time(0), tzinfo=IST).timestamp() * 1000) - 1


def test_daily_frames_carry_the_reports_futures_oi_and_nothing_where_no_report_is() -> None:
    by_hand = _futures_oi_by_hand()
    symbols = ["RELIANCE", "SBIN", "INFY", "HDFCBANK", "TATAMOTORS"]
    last = max(max(d) for d in by_hand.values())
    loader = HistoryLoader(IndexedCandles(daily_candles(symbols)), open_interest=_store())
    frame = loader.load(Universe("x", tuple(symbols)), "1d", {"1d": 40}, _end_ms(last), with_oi=True).frames[
        "1d"
    ]
    assert frame.oi is not None
    days = [datetime.fromtimestamp(int(ms) / 1000, IST).date() for ms in frame.index_ms]
    for j, sym in enumerate(symbols):
        for t, day in enumerate(days):
            want = by_hand[sym].get(day)
            if want is None:  # a session before the first stored report: unknown, never filled in
                assert np.isnan(frame.oi[t, j]), (sym, day)
            else:
                assert frame.oi[t, j] == want, (sym, day)
    assert sum(d in by_hand["SBIN"] for d in days) == len(fo_files())


def test_unusual_oi_matches_a_hand_computed_z_score_over_the_fno_stocks() -> None:
    by_hand = _futures_oi_by_hand()
    sessions = sorted({d for per in by_hand.values() for d in per})
    candles = daily_candles(sorted(by_hand))
    traded_last = {
        c.symbol for c in candles if datetime.fromtimestamp(c.start_ms / 1000, IST).date() == sessions[-1]
    }
    symbols = tuple(sorted(traded_last))
    assert len(symbols) > 150  # the whole F&O stock list, as published

    expected = set()
    for sym in symbols:
        oi = [by_hand[sym].get(d) for d in sessions]
        if any(v is None for v in oi):
            continue
        change = [b - a for a, b in itertools.pairwise(oi)]  # type: ignore[operator]
        prior = change[-6:-1]
        sd = statistics.pstdev(prior)
        if sd > 0 and (change[-1] - statistics.fmean(prior)) / sd >= 1.5:
            expected.add(sym)
    assert expected  # the sample has some

    service = ScanService(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        HistoryLoader(IndexedCandles(candles), open_interest=_store()),
        ManualClock(_end_ms(sessions[-1])),
    )
    run = service.execute(
        compile_scan("unusual_oi(1.5, 5)", "1d"), Universe("fno", symbols), _end_ms(sessions[-1]), 10_000
    )
    assert {h.symbol for h in run.hits} == expected
