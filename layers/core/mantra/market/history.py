"""Price history for scans: stored candles, backfilled with seeded simulated bars where history is short.

* ``generate`` makes realistic OHLCV bars for one instrument and timeframe: a seeded random walk with
  per-instrument volatility, volatility clustering, occasional gaps, prices on the tick grid in integer paise,
  volume that rises with the size of the move; daily bars on weekdays (IST midnight buckets), intraday bars in
  the 09:15-15:30 IST session, as the candle builder stamps them. The walk is generated backwards from an anchor
  price, so simulated history joins the first stored candle without a jump. Same seed, same bars.
* ``Universe`` names the instruments to scan: ``nifty50`` (data/universe_nifty50.json), ``demo`` (the bundled demo
  instruments) or a comma-separated list of symbols.
* ``HistoryLoader`` reads the stored candles (``CandleRepository.range``) for each symbol and timeframe,
  prepends simulated bars when fewer than needed are stored, aligns every symbol on one time index and builds a
  scanner ``Panel`` in rupees. Symbols that received simulated bars are reported, so callers can label them.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np

from mantra.clock import IST, ist_from_ms
from mantra.domain import Candle
from mantra.errors import Invalid
from mantra.market.instruments import demo_instruments
from mantra.market.timeframes import TIMEFRAMES_MS, bucket_start_ms
from mantra.money import to_paise
from mantra.ports import CandleRepository
from mantra.quant.scanner.frame import Frame, Panel

SESSION_OPEN = time(9, 15)
SESSION_MINUTES = 375  # 09:15-15:30
BENCHMARK = "NIFTY 50"
MIN_BARS = 30


def bars_per_session(tf: str) -> int:
    if tf == "1d":
        return 1
    return math.ceil(SESSION_MINUTES * 60_000 / TIMEFRAMES_MS[tf])


def _trading_days_back(last: date, count: int) -> list[date]:
    """``count`` weekdays ending at ``last`` (inclusive if it is a weekday), oldest first."""
    out: list[date] = []
    d = last
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d)
        d -= timedelta(days=1)
    return out[::-1]


def slots_before(tf: str, before_ms: int, count: int) -> list[int]:
    """Start times (epoch ms) of the ``count`` bar slots of ``tf`` that end at or before ``before_ms``."""
    if count <= 0:
        return []
    width = TIMEFRAMES_MS[tf]
    local = ist_from_ms(before_ms)
    per = bars_per_session(tf)
    days = _trading_days_back(local.date(), count // per + 2)
    starts: list[int] = []
    for d in days:
        open_ms = int(datetime.combine(d, SESSION_OPEN, tzinfo=IST).timestamp() * 1000)
        if tf == "1d":
            if open_ms < before_ms:  # a day's bar exists once its session has opened
                starts.append(bucket_start_ms(open_ms, "1d"))
        else:
            starts.extend(s for s in (open_ms + i * width for i in range(per)) if s < before_ms)
    kept = [s for s in starts if s < before_ms]
    return kept[-count:]


def _seed(symbol: str, tf: str, seed: int) -> int:
    return zlib.crc32(f"{symbol}|{tf}|{seed}".encode())


def generate(
    symbol: str, tf: str, starts: list[int], anchor_paise: int, seed: int = 7, tick_paise: int = 5
) -> list[Candle]:
    """Bars at ``starts`` whose last close is ``anchor_paise`` (the walk runs backwards from it)."""
    n = len(starts)
    if n == 0:
        return []
    rng = np.random.default_rng(_seed(symbol, tf, seed))
    per_day = bars_per_session(tf)
    daily_vol = 0.012 + 0.018 * (zlib.crc32(symbol.encode()) % 1000) / 1000  # 1.2%-3.0% a day
    vol = daily_vol / math.sqrt(per_day)
    # volatility clustering: a slowly varying multiplier
    regime = np.exp(np.convolve(rng.normal(0, 0.25, n + 20), np.ones(20) / math.sqrt(20), "valid")[:n])
    rets = rng.standard_t(5, n) * vol * regime / math.sqrt(5 / 3) + 0.0002 / per_day
    if tf == "1d":
        gaps = rng.random(n) < 0.04
        rets[gaps] += rng.normal(0, 2.5 * daily_vol, int(gaps.sum()))
    close = anchor_paise * np.exp(-np.concatenate(([0.0], np.cumsum(rets[::-1][:-1])))[::-1])
    prev = np.concatenate(([close[0] / math.exp(rets[0])], close[:-1]))
    open_ = prev * np.exp(rng.normal(0, vol * 0.3, n))
    span = np.abs(rng.normal(0, vol * 0.6, (2, n)))
    high = np.maximum(open_, close) * (1 + span[0])
    low = np.minimum(open_, close) * (1 - span[1])
    base_volume = 2e6 * 1000 / max(anchor_paise / 100, 10) / per_day
    volume = base_volume * np.exp(rng.normal(0, 0.35, n)) * (1 + 20 * np.abs(rets))

    def tick(a: np.ndarray) -> np.ndarray:
        return np.maximum(np.round(a / tick_paise) * tick_paise, tick_paise).astype(np.int64)

    o, h, lo, c = tick(open_), tick(high), tick(low), tick(close)
    c[-1] = anchor_paise
    h = np.maximum.reduce([h, o, c])
    lo = np.minimum.reduce([lo, o, c])
    width = TIMEFRAMES_MS[tf]
    return [
        Candle(
            symbol=symbol,
            timeframe=tf,
            start_ms=s,
            open_paise=int(o[i]),
            high_paise=int(h[i]),
            low_paise=int(lo[i]),
            close_paise=int(c[i]),
            volume=int(volume[i]),
            ticks=0,
            first_tick_ms=s,
            last_tick_ms=s + min(width, SESSION_MINUTES * 60_000) - 1,
        )
        for i, s in enumerate(starts)
    ]


# universes
@dataclass(frozen=True)
class Universe:
    name: str
    symbols: tuple[str, ...]
    base_paise: Mapping[str, int]
    benchmark: str | None = BENCHMARK


@lru_cache
def _known_prices() -> dict[str, int]:
    prices = {i.symbol: base for i, base in demo_instruments()}
    raw = json.loads(resources.files("mantra.data").joinpath("universe_nifty50.json").read_text())
    for row in raw["symbols"]:
        prices.setdefault(row["symbol"], to_paise(row["base_price"]))
    return prices


def universe(spec: str) -> Universe:
    """``nifty50``, ``demo``, or symbols separated by commas (``RELIANCE,TCS``)."""
    key = spec.strip()
    if not key:
        raise Invalid("universe: give a name (nifty50, demo) or symbols separated by commas")
    prices = _known_prices()
    if key.lower() == "nifty50":
        raw = json.loads(resources.files("mantra.data").joinpath("universe_nifty50.json").read_text())
        symbols = tuple(r["symbol"] for r in raw["symbols"])
        return Universe("nifty50", symbols, {s: prices[s] for s in symbols}, raw.get("benchmark"))
    if key.lower() == "demo":
        symbols = tuple(i.symbol for i, _ in demo_instruments() if i.instrument_type == "EQ")
        return Universe("demo", symbols, {s: prices[s] for s in symbols})
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in key.split(",") if s.strip()))
    unknown = [s for s in symbols if s not in prices]
    if unknown:
        from mantra.quant.scanner.checker import did_you_mean

        hint = did_you_mean(unknown[0], tuple(prices))
        raise Invalid(f"universe: unknown symbol {unknown[0]!r}" + (f"; {hint}" if hint else ""))
    return Universe(",".join(symbols), symbols, {s: prices[s] for s in symbols})


# loading
class HistoryLoader:
    """Stored candles first; simulated bars before them when fewer than ``bars`` are stored."""

    def __init__(self, candles: CandleRepository | None, seed: int = 7, backfill: bool = True) -> None:
        self._candles, self._seed, self._backfill = candles, seed, backfill

    def series(
        self, symbol: str, tf: str, bars: int, end_ms: int, anchor_paise: int
    ) -> tuple[list[Candle], int]:
        """The latest ``bars`` candles of ``symbol`` up to ``end_ms`` and how many of them are simulated."""
        stored: list[Candle] = []
        if self._candles is not None:
            per = bars_per_session(tf)
            days = int((bars / per + 3) * 7 / 5) + 7
            start = end_ms - days * 86_400_000
            stored = self._candles.range(symbol, tf, start, end_ms, bars * 3 + 50)[-bars:]
        missing = bars - len(stored)
        if missing <= 0 or not self._backfill:
            return stored, 0
        before = stored[0].start_ms if stored else end_ms + 1
        anchor = stored[0].open_paise if stored else anchor_paise
        starts = slots_before(tf, before, missing)
        return generate(symbol, tf, starts, anchor, self._seed) + stored, len(starts)

    def load(
        self,
        uni: Universe,
        base: str,
        needs: Mapping[str, int],
        end_ms: int,
        with_benchmark: bool = False,
    ) -> Panel:
        """A panel with a frame for ``base`` and every other timeframe in ``needs`` (bars per timeframe)."""
        simulated: set[str] = set()
        frames: dict[str, Frame] = {}
        bench_anchor = _known_prices().get(BENCHMARK, 2_435_000)
        for tf in sorted(set(needs) | {base}, key=lambda t: TIMEFRAMES_MS[t]):
            bars = max(int(needs.get(tf, 0)), MIN_BARS)
            rows: dict[str, list[Candle]] = {}
            for sym in uni.symbols:
                rows[sym], fake = self.series(sym, tf, bars, end_ms, uni.base_paise[sym])
                if fake:
                    simulated.add(sym)
            bench = None
            if with_benchmark and uni.benchmark:
                bench_rows, _ = self.series(uni.benchmark, tf, bars, end_ms, bench_anchor)
                bench = bench_rows
            frames[tf] = _frame(tf, uni.symbols, rows, bars, bench)
        return Panel(uni.symbols, frames, base, frozenset(simulated))


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
