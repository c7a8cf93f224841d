"""Stored bars as arrays, and a per-process cache of each symbol's closed daily sessions.

A daily scan of the whole market reads about 2,000 series; reading each from the table on every run costs
seconds. Daily bars of sessions before today change only when history is loaded (an end-of-day report, a
corporate action, a broker backfill), and every such load moves the store's history version
(``HistoryVersion``). So ``DailyBarCache`` keeps each symbol's closed sessions in memory, keyed by the IST day,
until the version moves, the day turns or ``ttl_s`` passes (the last for writers that do not move the
version), and reads only today's bar fresh on every run, in one batched request per 100 symbols: the bar the
live feed is building, or today's report once loaded.

Only "now" scans use it: a scan ``as_of`` a past date reads the store directly, so nothing known only later
reaches it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from mantra.clock import Clock
from mantra.domain import Candle
from mantra.market.timeframes import bucket_start_ms
from mantra.ports import CandleRepository

Series = Callable[[str, str, int, int], list[Candle]]  # (symbol, tf, bars, end_ms): newest bars, oldest first
FETCHERS = 8  # the table answers each query in a few ms: several in flight keep it busy
DAY_MS = 86_400_000


class HistoryVersion(Protocol):
    """A number that moves whenever stored history (not the live feed's bars) changes."""

    def current(self) -> int: ...


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """One symbol's bars, oldest first: start times (epoch ms) and OHLCV in rupees, as the scanner reads them."""

    start_ms: NDArray[np.int64]
    ohlcv: NDArray[np.float64]  # (n, 5): open, high, low, close, volume

    def __len__(self) -> int:
        return int(self.start_ms.shape[0])

    @classmethod
    def of(cls, candles: Sequence[Candle]) -> Bars:
        rows = [(c.open_paise, c.high_paise, c.low_paise, c.close_paise, c.volume) for c in candles]
        values = np.array(rows, dtype=np.float64).reshape(len(rows), 5)
        values[:, :4] /= 100.0  # paise to rupees; volume stays a count
        starts = np.fromiter((c.start_ms for c in candles), dtype=np.int64, count=len(rows))
        return cls(starts, values)

    def join(self, other: Bars) -> Bars:
        if not len(other):
            return self
        return Bars(np.concatenate([self.start_ms, other.start_ms]), np.vstack([self.ohlcv, other.ohlcv]))

    def last(self, n: int) -> Bars:
        return self if len(self) <= n else Bars(self.start_ms[-n:], self.ohlcv[-n:])


EMPTY = Bars(np.empty(0, dtype=np.int64), np.empty((0, 5)))


def fetch_all(series: Series, symbols: Iterable[str], tf: str, bars: int, end_ms: int) -> dict[str, Bars]:
    """Each symbol's newest ``bars`` up to ``end_ms``, read concurrently."""
    symbols = list(symbols)

    def one(sym: str) -> Bars:
        return Bars.of(series(sym, tf, bars, end_ms))

    if len(symbols) <= 2:
        return {s: one(s) for s in symbols}
    with ThreadPoolExecutor(min(FETCHERS, len(symbols))) as pool:
        return dict(zip(symbols, pool.map(one, symbols), strict=True))


@dataclass(slots=True)
class _Closed:
    bars: Bars  # sessions before the cache's day
    complete: bool  # the store has no older bars than these


class DailyBarCache:
    """Closed daily sessions per symbol in memory; today's bar read fresh on every call."""

    def __init__(
        self,
        series: Series,
        candles: CandleRepository,
        version: HistoryVersion,
        clock: Clock,
        ttl_s: float = 600.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._series, self._candles, self._version, self._clock = series, candles, version, clock
        self._ttl_s, self._now = ttl_s, now
        self._key: tuple[int, int] | None = None  # (IST day start, history version)
        self._born = 0.0
        self._closed: dict[str, _Closed] = {}
        self._lock = Lock()
        self.fetched = 0  # series read from the table (warm-up and misses), for tests and benches

    def serves(self, end_ms: int) -> bool:
        """Only panels ending today: an earlier end reads the store, as it was known then."""
        return end_ms >= bucket_start_ms(self._clock.now_ms(), "1d")

    def daily(self, symbols: Sequence[str], bars: int, end_ms: int) -> dict[str, Bars]:
        """The newest ``bars`` daily bars of each symbol up to ``end_ms``, which must fall on today (IST)."""
        day = bucket_start_ms(end_ms, "1d")
        closed = self._closed_sessions(symbols, bars, day)
        today = self._today(symbols, day, end_ms)
        return {s: closed[s].join(today.get(s, EMPTY)).last(bars) for s in symbols}

    def _closed_sessions(self, symbols: Sequence[str], bars: int, day: int) -> dict[str, Bars]:
        key = (day, self._version.current())
        with self._lock:
            if key != self._key or self._now() - self._born > self._ttl_s:
                self._key, self._born, self._closed = key, self._now(), {}
            held = dict(self._closed)
        missing = [s for s in symbols if not _enough(held.get(s), bars)]
        if missing:
            # one more bar than asked: today's, if stored, comes back too and is dropped below
            read = fetch_all(self._series, missing, "1d", bars + 1, day + DAY_MS - 1)
            self.fetched += len(missing)
            fresh = {s: _closed_part(b, day, bars + 1) for s, b in read.items()}
            with self._lock:
                if self._key == key:
                    self._closed.update(fresh)
            held.update(fresh)
        return {s: held[s].bars for s in symbols}

    def _today(self, symbols: Sequence[str], day: int, end_ms: int) -> Mapping[str, Bars]:
        found = self._candles.get_many((s, "1d", day) for s in symbols)
        return {c.symbol: Bars.of([c]) for c in found.values() if not c.is_demo and c.start_ms <= end_ms}


def _enough(held: _Closed | None, bars: int) -> bool:
    return held is not None and (held.complete or len(held.bars) >= bars)


def _closed_part(read: Bars, day: int, asked: int) -> _Closed:
    keep = read.start_ms < day
    return _Closed(Bars(read.start_ms[keep], read.ohlcv[keep]), complete=len(read) < asked)
