"""Price history for scans: stored candles only, and an account of what is missing.

* ``Universe`` (mantra.market.universes) names the instruments to scan.
* ``HistoryLoader`` reads each symbol's newest stored candles up to the scan's moment
  (``CandleRepository.latest``), aligns every symbol on one time index and builds a scanner ``Panel`` in rupees.
  Nothing is generated: a symbol with no stored bars, too few of them, or none on the panel's last bar is
  reported in the panel's ``Coverage`` so results can say which data they did not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from mantra.domain import Candle
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.market.universes import Universe
from mantra.ports import CandleRepository
from mantra.quant.scanner.frame import Coverage, Frame, Panel

MIN_BARS = 30


# loading
class HistoryLoader:
    """Stored candles only: each symbol's newest ``bars`` up to the scan's moment, never filled in."""

    def __init__(self, candles: CandleRepository) -> None:
        self._candles = candles

    def series(self, symbol: str, tf: str, bars: int, end_ms: int) -> list[Candle]:
        """The newest ``bars`` stored candles of ``symbol`` starting at or before ``end_ms``, oldest first;
        demo-feed bars are not market data and never enter a scan."""
        return [c for c in self._candles.latest(symbol, tf, end_ms, bars) if not c.is_demo]

    def load(
        self,
        uni: Universe,
        base: str,
        needs: Mapping[str, int],
        end_ms: int,
        with_benchmark: bool = False,
    ) -> Panel:
        """A panel with a frame for ``base`` and every other timeframe in ``needs`` (bars per timeframe)."""
        frames: dict[str, Frame] = {}
        coverage = Coverage()
        for tf in sorted(set(needs) | {base}, key=lambda t: TIMEFRAMES_MS[t]):
            bars = max(int(needs.get(tf, 0)), MIN_BARS)
            rows = {sym: self.series(sym, tf, bars, end_ms) for sym in uni.symbols}
            bench = None
            if with_benchmark and uni.benchmark:
                bench = self.series(uni.benchmark, tf, bars, end_ms)
            frames[tf] = _frame(tf, uni.symbols, rows, bars, bench)
            if tf == base:
                coverage = _coverage(frames[tf], rows, bars)
        return Panel(uni.symbols, frames, base, coverage)


def _coverage(frame: Frame, rows: Mapping[str, list[Candle]], bars: int) -> Coverage:
    last = int(frame.index_ms[-1]) if frame.index_ms.size else None
    return Coverage(
        as_of_ms=last,
        no_data=tuple(s for s, cs in rows.items() if not cs),
        short={s: len(cs) for s, cs in rows.items() if 0 < len(cs) < bars},
        stale={
            s: cs[-1].start_ms for s, cs in rows.items() if cs and last is not None and cs[-1].start_ms < last
        },
    )


def _frame(
    tf: str, symbols: tuple[str, ...], rows: Mapping[str, list[Candle]], bars: int, bench: list[Candle] | None
) -> Frame:
    index = sorted({c.start_ms for cs in rows.values() for c in cs})[-bars:]
    pos = {t: i for i, t in enumerate(index)}
    shape = (len(index), len(symbols))
    arrays = {k: np.full(shape, np.nan, order="F") for k in ("open", "high", "low", "close", "volume")}
    for j, sym in enumerate(symbols):
        for c in rows[sym]:
            i = pos.get(c.start_ms)
            if i is None:
                continue
            arrays["open"][i, j] = c.open_paise / 100
            arrays["high"][i, j] = c.high_paise / 100
            arrays["low"][i, j] = c.low_paise / 100
            arrays["close"][i, j] = c.close_paise / 100
            arrays["volume"][i, j] = c.volume
    bench_close = None
    if bench is not None:
        bench_close = np.full(len(index), np.nan)
        for c in bench:
            i = pos.get(c.start_ms)
            if i is not None:
                bench_close[i] = c.close_paise / 100
    return Frame(
        tf,
        np.asarray(index, dtype=np.int64),
        arrays["open"],
        arrays["high"],
        arrays["low"],
        arrays["close"],
        arrays["volume"],
        None,
        bench_close,
    )


def uses_benchmark(function_names: Iterable[str]) -> bool:
    return any(n in ("rs", "rs_ratio") for n in function_names)
