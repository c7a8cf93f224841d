"""Price history for scans: stored candles only, and an account of what is missing.

* ``Universe`` (mantra.market.universes) names the instruments to scan.
* ``HistoryLoader`` reads each symbol's newest stored candles up to the scan's moment
  (``CandleRepository.latest``), aligns every symbol on one time index and builds a scanner ``Panel`` in rupees.
  Nothing is generated: a symbol with no stored bars, too few of them, or none on the panel's last bar is
  reported in the panel's ``Coverage`` so results can say which data they did not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Protocol

import numpy as np

from mantra.clock import IST, Clock, ist_from_ms
from mantra.domain import Candle
from mantra.market.bar_cache import Bars, DailyBarCache, HistoryVersion, fetch_all
from mantra.market.fo_contracts import OiSummary
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.market.universes import Universe
from mantra.ports import CandleRepository
from mantra.quant.scanner.frame import Coverage, Frame, Panel

MIN_BARS = 30
# scan symbols of the index underlyings (the F&O reports name them NIFTY, BANKNIFTY, ...)
INDEX_UNDERLYINGS: Mapping[str, str] = {
    "NIFTY 50": "NIFTY",
    "NIFTY BANK": "BANKNIFTY",
    "NIFTY FIN SERVICE": "FINNIFTY",
    "NIFTY MID SELECT": "MIDCPNIFTY",
    "NIFTY NEXT 50": "NIFTYNXT50",
}


class OpenInterest(Protocol):
    """Daily open interest from the stored F&O reports (``store.fo_repository.DynamoFoStore``)."""

    def open_interest(self, sessions: int, on_or_before: date | None = None) -> list[OiSummary]: ...


# loading
class HistoryLoader:
    """Stored candles only: each symbol's newest ``bars`` up to the scan's moment, never filled in.

    Given the store's history ``version`` and a ``clock``, a daily panel that ends today takes closed sessions
    from a ``DailyBarCache`` (see ``mantra.market.bar_cache``); every other panel reads the store."""

    def __init__(
        self,
        candles: CandleRepository,
        version: HistoryVersion | None = None,
        clock: Clock | None = None,
        open_interest: OpenInterest | None = None,
    ) -> None:
        self._candles = candles
        self._oi = open_interest
        self._daily = None
        if version is not None and clock is not None:
            self._daily = DailyBarCache(self.series, candles, version, clock)

    @property
    def daily_cache(self) -> DailyBarCache | None:
        return self._daily

    def series(self, symbol: str, tf: str, bars: int, end_ms: int) -> list[Candle]:
        """The newest ``bars`` stored candles of ``symbol`` starting at or before ``end_ms``, oldest first;
        demo-feed bars are not market data and never enter a scan."""
        return [c for c in self._candles.latest(symbol, tf, end_ms, bars) if not c.is_demo]

    def bars(self, symbols: Sequence[str], tf: str, bars: int, end_ms: int) -> dict[str, Bars]:
        if tf == "1d" and self._daily is not None and self._daily.serves(end_ms):
            return self._daily.daily(symbols, bars, end_ms)
        return fetch_all(self.series, symbols, tf, bars, end_ms)

    def load(
        self,
        uni: Universe,
        base: str,
        needs: Mapping[str, int],
        end_ms: int,
        with_benchmark: bool = False,
        with_oi: bool = False,
    ) -> Panel:
        """A panel with a frame for ``base`` and every other timeframe in ``needs`` (bars per timeframe);
        ``with_oi``: daily frames carry each symbol's futures open interest from the stored F&O reports."""
        frames: dict[str, Frame] = {}
        coverage = Coverage()
        wanted = uni.symbols + ((uni.benchmark,) if with_benchmark and uni.benchmark else ())
        for tf in sorted(set(needs) | {base}, key=lambda t: TIMEFRAMES_MS[t]):
            bars = max(int(needs.get(tf, 0)), MIN_BARS)
            rows = self.bars(tuple(dict.fromkeys(wanted)), tf, bars, end_ms)
            bench = rows.get(uni.benchmark) if with_benchmark and uni.benchmark else None
            frames[tf] = _frame(tf, uni.symbols, rows, bars, bench)
            if with_oi and tf == "1d" and self._oi is not None:
                frames[tf] = _with_oi(
                    frames[tf], uni.symbols, self._oi.open_interest(bars, _ist_date(end_ms))
                )
            if tf == base:
                coverage = _coverage(frames[tf], {s: rows[s] for s in uni.symbols}, bars)
        return Panel(uni.symbols, frames, base, coverage)


def _coverage(frame: Frame, rows: Mapping[str, Bars], bars: int) -> Coverage:
    last = int(frame.index_ms[-1]) if frame.index_ms.size else None
    return Coverage(
        as_of_ms=last,
        no_data=tuple(s for s, b in rows.items() if not len(b)),
        short={s: len(b) for s, b in rows.items() if 0 < len(b) < bars},
        stale={
            s: int(b.start_ms[-1])
            for s, b in rows.items()
            if len(b) and last is not None and int(b.start_ms[-1]) < last
        },
    )


def _frame(
    tf: str, symbols: tuple[str, ...], rows: Mapping[str, Bars], bars: int, bench: Bars | None
) -> Frame:
    """(T, N) arrays on the union of the symbols' bar times (the newest ``bars`` of them), NaN where a symbol
    has no bar; all symbols placed in one scatter."""
    series = [rows[s] for s in symbols]
    starts = np.concatenate([b.start_ms for b in series]) if series else np.empty(0, dtype=np.int64)
    index = np.unique(starts)[-bars:]
    arrays = np.full((5, index.size, len(symbols)), np.nan)
    if index.size and starts.size:
        cols = np.repeat(np.arange(len(symbols)), [len(b) for b in series])
        values = np.vstack([b.ohlcv for b in series])
        pos = np.searchsorted(index, starts)
        keep = (pos < index.size) & (index[np.minimum(pos, index.size - 1)] == starts)
        arrays[:, pos[keep], cols[keep]] = values[keep].T
    bench_close = None
    if bench is not None:
        bench_close = np.full(index.size, np.nan)
        if index.size and len(bench):
            pos = np.searchsorted(index, bench.start_ms)
            keep = (pos < index.size) & (index[np.minimum(pos, index.size - 1)] == bench.start_ms)
            bench_close[pos[keep]] = bench.ohlcv[keep, 3]
    o, h, lo, c, v = (np.asfortranarray(a) for a in arrays)
    return Frame(tf, index.astype(np.int64), o, h, lo, c, v, None, bench_close)


def uses_benchmark(function_names: Iterable[str]) -> bool:
    return any(n in ("rs", "rs_ratio") for n in function_names)


def uses_oi(function_names: Iterable[str]) -> bool:
    return any(n in ("oi", "unusual_oi") for n in function_names)


def _ist_date(ms: int) -> date:
    return ist_from_ms(ms).date()


def _with_oi(frame: Frame, symbols: Sequence[str], sessions: Sequence[OiSummary]) -> Frame:
    """The frame with each symbol's futures OI (all expiries, shares) on the sessions' daily bars; NaN where a
    session has no report or the symbol no futures (never filled in)."""
    oi = np.full(frame.shape, np.nan)
    pos = {int(d): i for i, d in enumerate(frame.index_ms)}
    for s in sessions:
        row = pos.get(int(datetime.combine(s.session, time(0), tzinfo=IST).timestamp() * 1000))
        if row is None:
            continue
        for j, symbol in enumerate(symbols):
            value = s.futures(INDEX_UNDERLYINGS.get(symbol, symbol))
            if value is not None:
                oi[row, j] = value
    return Frame(
        frame.timeframe,
        frame.index_ms,
        frame.open,
        frame.high,
        frame.low,
        frame.close,
        frame.volume,
        np.asfortranarray(oi),
        frame.benchmark,
    )
