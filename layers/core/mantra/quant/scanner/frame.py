"""The data a scan runs on: OHLCV per timeframe as (time x instrument) arrays, resampling and alignment.

* A ``Frame`` is one timeframe: bar start times (epoch ms UTC, shape (T,)) and float arrays (T, N) in rupees.
* A ``Panel`` holds the frames it was given and builds missing timeframes by resampling a finer one
  (IST-session-aligned buckets, as the candle builder does: intraday buckets anchored at 09:15 IST, daily
  buckets the IST date).
* ``align`` maps values from one timeframe onto another without look-ahead: each target bar sees the most
  recent source bar that had *finished* by the time the target bar finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.indicators._columns import FloatArray
from mantra.quant.scanner.errors import ScanDataError

IST_OFFSET_MS = 19_800_000  # +05:30
DAY_MS = 86_400_000
SESSION_OPEN_MS = (9 * 60 + 15) * 60_000
Int64Array = NDArray[np.int64]


def ist_day(index_ms: Int64Array) -> Int64Array:
    """IST calendar day number of each timestamp (a session id)."""
    return np.asarray((index_ms + IST_OFFSET_MS) // DAY_MS, dtype=np.int64)


def bucket_start(index_ms: Int64Array, tf: str) -> Int64Array:
    """Vectorised ``market.timeframes.bucket_start_ms``."""
    day_start = ist_day(index_ms) * DAY_MS - IST_OFFSET_MS
    if tf == "1d":
        return day_start
    width = TIMEFRAMES_MS[tf]
    anchor = day_start + SESSION_OPEN_MS
    return np.asarray(anchor + ((index_ms - anchor) // width) * width, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Frame:
    timeframe: str
    index_ms: Int64Array
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    oi: FloatArray | None = None
    benchmark: FloatArray | None = None  # index close, shape (T,)

    def __post_init__(self) -> None:
        t = self.index_ms.shape[0]
        for name in ("open", "high", "low", "close", "volume"):
            arr = getattr(self, name)
            if arr.ndim != 2 or arr.shape[0] != t:
                raise ScanDataError(f"{self.timeframe} {name}: expected shape ({t}, N), got {arr.shape}")
            if not arr.flags.f_contiguous:
                object.__setattr__(self, name, np.asfortranarray(arr, dtype=np.float64))
        if self.oi is not None and not self.oi.flags.f_contiguous:
            object.__setattr__(self, "oi", np.asfortranarray(self.oi, dtype=np.float64))

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.close.shape[0]), int(self.close.shape[1]))

    @cached_property
    def end_ms(self) -> Int64Array:
        return np.asarray(self.index_ms + TIMEFRAMES_MS[self.timeframe], dtype=np.int64)

    @cached_property
    def session_ids(self) -> Int64Array:
        return ist_day(self.index_ms)


def resample(src: Frame, tf: str) -> Frame:
    """OHLCV of ``src`` regrouped into ``tf`` buckets (first open, max high, min low, last close, summed volume).

    The last bucket may still be forming (it holds the bars so far), which is what a live scan wants.
    """
    if src.shape[0] == 0:
        raise ScanDataError(f"no {src.timeframe} bars to build {tf} bars from")
    buckets = bucket_start(src.index_ms, tf)
    starts = np.concatenate(([0], np.flatnonzero(buckets[1:] != buckets[:-1]) + 1))
    ends = np.append(starts[1:], len(buckets)) - 1
    with np.errstate(invalid="ignore"):
        high = np.fmax.reduceat(src.high, starts, axis=0)
        low = np.fmin.reduceat(src.low, starts, axis=0)
        volume = np.add.reduceat(np.nan_to_num(src.volume, nan=0.0), starts, axis=0)
    oi = src.oi[ends] if src.oi is not None else None
    bench = src.benchmark[ends] if src.benchmark is not None else None
    return Frame(
        tf,
        buckets[starts],
        np.asfortranarray(src.open[starts]),
        np.asfortranarray(high),
        np.asfortranarray(low),
        np.asfortranarray(src.close[ends]),
        np.asfortranarray(volume),
        None if oi is None else np.asfortranarray(oi),
        bench,
    )


def align_index(src: Frame, dst: Frame) -> Int64Array:
    """For each ``dst`` bar, the row of the latest ``src`` bar finished when it finished (-1: none yet)."""
    return np.asarray(np.searchsorted(src.end_ms, dst.end_ms, side="right") - 1, dtype=np.int64)


def align(values: FloatArray | NDArray[np.bool_], src: Frame, dst: Frame) -> FloatArray | NDArray[np.bool_]:
    if src is dst:
        return values
    rows = align_index(src, dst)
    taken = values[np.maximum(rows, 0)]
    missing = rows < 0
    if values.dtype == np.bool_:
        taken = taken.copy()
        taken[missing] = False
        return taken
    taken = np.asarray(taken, dtype=np.float64)
    taken[missing] = np.nan
    return np.asfortranarray(taken)


@dataclass(frozen=True)
class Coverage:
    """What the stored history lacked for a panel's base timeframe (nothing is filled in)."""

    as_of_ms: int | None = None  # start of the last bar of the panel: the session the answer is about
    no_data: tuple[str, ...] = ()  # symbols with no stored bars at all
    short: Mapping[str, int] = field(default_factory=dict)  # symbols with fewer bars than asked: how many
    stale: Mapping[str, int] = field(default_factory=dict)  # symbols without the last bar: their own last

    @property
    def complete(self) -> bool:
        return not (self.no_data or self.short or self.stale)


@dataclass(eq=False)
class Panel:
    """Frames for one universe; ``base`` is the timeframe the scan's answer is read on (its last bar)."""

    symbols: tuple[str, ...]
    frames: dict[str, Frame]
    base: str
    coverage: Coverage = field(default_factory=Coverage)
    _built: dict[str, Frame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.base not in self.frames:
            self.frame(self.base)
        for tf, f in self.frames.items():
            if f.shape[1] != len(self.symbols):
                raise ScanDataError(f"{tf} frame has {f.shape[1]} columns for {len(self.symbols)} symbols")

    def frame(self, tf: str) -> Frame:
        if tf in self.frames:
            return self.frames[tf]
        if tf in self._built:
            return self._built[tf]
        width = TIMEFRAMES_MS[tf]
        finer = sorted(
            (f for f in self.frames.values() if TIMEFRAMES_MS[f.timeframe] < width),
            key=lambda f: -f.index_ms.size,
        )
        finer = [f for f in finer if tf == "1d" or width % TIMEFRAMES_MS[f.timeframe] == 0]
        if not finer:
            have = ", ".join(sorted(self.frames)) or "none"
            raise ScanDataError(f"no {tf} data and nothing finer to build it from (have: {have})")
        # the coarsest finer frame is the cheapest to resample
        src = max(finer, key=lambda f: TIMEFRAMES_MS[f.timeframe])
        built = resample(src, tf)
        self._built[tf] = built
        return built

    @property
    def base_frame(self) -> Frame:
        return self.frame(self.base)
