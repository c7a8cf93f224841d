"""Price history for scans: stored candles only, and an account of what is missing.

* ``Universe`` names the instruments to scan: ``nifty50`` (data/universe_nifty50.json), ``demo`` (the bundled demo
  instruments) or a comma-separated list of symbols.
* ``HistoryLoader`` reads each symbol's newest stored candles up to the scan's moment
  (``CandleRepository.latest``), aligns every symbol on one time index and builds a scanner ``Panel`` in rupees.
  Nothing is generated: a symbol with no stored bars, too few of them, or none on the panel's last bar is
  reported in the panel's ``Coverage`` so results can say which data they did not have.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from importlib import resources

import numpy as np

from mantra.domain import Candle
from mantra.errors import Invalid
from mantra.market.instruments import demo_instruments
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.ports import CandleRepository
from mantra.quant.scanner.frame import Coverage, Frame, Panel

SESSION_OPEN = time(9, 15)
SESSION_MINUTES = 375  # 09:15-15:30
BENCHMARK = "NIFTY 50"
MIN_BARS = 30


def bars_per_session(tf: str) -> int:
    if tf == "1d":
        return 1
    return math.ceil(SESSION_MINUTES * 60_000 / TIMEFRAMES_MS[tf])


# universes
@dataclass(frozen=True)
class Universe:
    name: str
    symbols: tuple[str, ...]
    benchmark: str | None = BENCHMARK


def _nifty50() -> dict[str, object]:
    raw: dict[str, object] = json.loads(
        resources.files("mantra.data").joinpath("universe_nifty50.json").read_text()
    )
    return raw


@lru_cache
def _known_symbols() -> frozenset[str]:
    rows = _nifty50()["symbols"]
    assert isinstance(rows, list)
    return frozenset(i.symbol for i, _ in demo_instruments()) | {r["symbol"] for r in rows}


def universe(spec: str) -> Universe:
    """``nifty50``, ``demo``, or symbols separated by commas (``RELIANCE,TCS``)."""
    key = spec.strip()
    if not key:
        raise Invalid("universe: give a name (nifty50, demo) or symbols separated by commas")
    if key.lower() == "nifty50":
        raw = _nifty50()
        rows = raw["symbols"]
        assert isinstance(rows, list)
        bench = raw.get("benchmark")
        return Universe(
            "nifty50", tuple(r["symbol"] for r in rows), bench if isinstance(bench, str) else None
        )
    if key.lower() == "demo":
        return Universe("demo", tuple(i.symbol for i, _ in demo_instruments() if i.instrument_type == "EQ"))
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in key.split(",") if s.strip()))
    known = _known_symbols()
    unknown = [s for s in symbols if s not in known]
    if unknown:
        from mantra.quant.scanner.checker import did_you_mean

        hint = did_you_mean(unknown[0], tuple(sorted(known)))
        raise Invalid(f"universe: unknown symbol {unknown[0]!r}" + (f"; {hint}" if hint else ""))
    return Universe(",".join(symbols), symbols)


# loading
class HistoryLoader:
    """Stored candles only: each symbol's newest ``bars`` up to the scan's moment, never filled in."""

    def __init__(self, candles: CandleRepository) -> None:
        self._candles = candles

    def series(self, symbol: str, tf: str, bars: int, end_ms: int) -> list[Candle]:
        """The newest ``bars`` stored candles of ``symbol`` starting at or before ``end_ms``, oldest first."""
        return self._candles.latest(symbol, tf, end_ms, bars)

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
