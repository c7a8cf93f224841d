"""The real NSE daily reports in ``shared/data/nse`` (see its README), read for tests as plain arrays.

A fixture reader, not the product's parser: the csv module over the full bhavcopy files, one series, closes
as published (unadjusted), NaN where a symbol has no row that day (a gap, as on a real exchange).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from mantra.clock import IST
from mantra.domain import Candle
from mantra.market.timeframes import bucket_start_ms
from numpy.typing import NDArray


def nse_data_dir() -> Path:
    """``MANTRA_NSE_DATA_DIR``, else the first ``shared/data/nse`` beside this checkout or one of its parents."""
    if named := os.environ.get("MANTRA_NSE_DATA_DIR"):
        return Path(named)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "nse"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no shared/data/nse beside the repository; set MANTRA_NSE_DATA_DIR")


@dataclass(frozen=True)
class DailyPanel:
    """(day x symbol) arrays in rupees; days ascending."""

    days: list[date]
    symbols: list[str]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]


@cache
def _rows(path: Path, series: str) -> dict[str, tuple[float, float, float, float, float]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        return {
            r["SYMBOL"]: tuple(  # type: ignore[misc]
                float(r[k]) for k in ("OPEN_PRICE", "HIGH_PRICE", "LOW_PRICE", "CLOSE_PRICE", "TTL_TRD_QNTY")
            )
            for r in reader
            if r["SERIES"] == series
        }


def daily_panel(symbols: list[str] | None = None, series: str = "EQ") -> DailyPanel:
    """Every equity file's rows of ``symbols`` (default: those present every day), aligned on the days."""
    files = sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )
    days = [datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y").date() for p in files]
    per_day = [_rows(p, series) for p in files]
    if symbols is None:
        symbols = sorted(set.intersection(*(set(d) for d in per_day)))
    arrays = np.full((5, len(days), len(symbols)), np.nan)
    for t, rows in enumerate(per_day):
        for j, s in enumerate(symbols):
            if s in rows:
                arrays[:, t, j] = rows[s]
    return DailyPanel(days, symbols, *(np.asfortranarray(a) for a in arrays))


def symbols_with_gaps(series: str = "EQ") -> list[str]:
    """Symbols with a row on the first and the last day but missing on some day between (suspended, not traded)."""
    files = sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )
    per_day = [set(_rows(p, series)) for p in files]
    return sorted(s for s in per_day[0] & per_day[-1] if not all(s in d for d in per_day))


def daily_candles(symbols: list[str], series: str = "EQ", ending: date | None = None) -> list[Candle]:
    """The symbols' real sessions as the platform's 1d candles (IST-midnight buckets, integer paise).

    ``ending``: the same bars moved onto the weekdays that end on that date, for tests whose clock (and so
    whose plan windows) sit after the sample's dates; prices and gaps stay as published."""
    panel = daily_panel(symbols, series)
    days = panel.days
    if ending is not None:
        weekdays = [ending - timedelta(n) for n in range(len(days) * 2)]
        days = sorted(d for d in weekdays if d.weekday() < 5)[-len(days) :]
    out: list[Candle] = []
    for t, day in enumerate(days):
        start = bucket_start_ms(int(datetime.combine(day, time(9, 15), tzinfo=IST).timestamp() * 1000), "1d")
        for j, sym in enumerate(panel.symbols):
            if np.isnan(panel.close[t, j]):
                continue  # no row that day: a gap, as published
            o, h, lo, c = (
                round(float(a[t, j]) * 100) for a in (panel.open, panel.high, panel.low, panel.close)
            )
            out.append(
                Candle(
                    symbol=sym,
                    timeframe="1d",
                    start_ms=start,
                    open_paise=o,
                    high_paise=h,
                    low_paise=lo,
                    close_paise=c,
                    volume=int(panel.volume[t, j]),
                    ticks=0,
                    first_tick_ms=start,
                    last_tick_ms=start,
                )
            )
    return out


class MemoryCandles:
    """An in-memory ``CandleRepository`` with the DynamoDB one's ordering (for unit tests)."""

    def __init__(self, candles: list[Candle] | None = None) -> None:
        self.items: dict[tuple[str, str, int], Candle] = {}
        self.put_many(candles or [])

    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        return {k: self.items[k] for k in keys if k in self.items}

    def put_many(self, candles: Iterable[Candle]) -> None:
        for c in candles:
            self.items[(c.symbol, c.timeframe, c.start_ms)] = c

    def _series(self, symbol: str, timeframe: str) -> list[Candle]:
        return [c for (s, tf, _), c in sorted(self.items.items()) if s == symbol and tf == timeframe]

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        return [c for c in self._series(symbol, timeframe) if start_ms <= c.start_ms <= end_ms][:limit]

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        return [c for c in self._series(symbol, timeframe) if c.start_ms <= end_ms][-limit:]
