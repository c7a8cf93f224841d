"""Activity measured against the same time of day in past sessions.

Intraday volume (and open-interest change) has a strong daily shape: the 09:15 bar always trades more than the
bars before it, the afternoon lull less. A spike is only unusual against the same bar of earlier sessions, so
these functions regroup an intraday panel as (session x time-of-day slot) and compare each bar with the ``n``
sessions before it at the same slot. Daily bars have one slot per session: the comparison is with the ``n``
bars before, as always. No look-ahead: a bar only ever sees earlier sessions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.indicators import ta
from mantra.quant.indicators._columns import FloatArray, as_panel, over_bars, shift
from mantra.quant.indicators.custom import zscore
from mantra.quant.scanner.frame import DAY_MS, IST_OFFSET_MS, SESSION_OPEN_MS, ist_day

SESSION_MINUTES = 375  # 09:15-15:30


def bars_per_session(tf: str) -> int:
    return 1 if tf == "1d" else -(-SESSION_MINUTES * 60_000 // TIMEFRAMES_MS[tf])


def sessions_lookback(tf: str, sessions: int) -> int:
    """Bars of ``tf`` that hold ``sessions`` whole sessions and the current one."""
    return (sessions + 1) * bars_per_session(tf) + (1 if tf == "1d" else 0)


def slots(index_ms: NDArray[np.int64], tf: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(session number, time-of-day slot) of each bar start; one slot a day on daily bars."""
    day = ist_day(index_ms)
    if tf == "1d":
        return day, np.zeros_like(day)
    open_ms = day * DAY_MS - IST_OFFSET_MS + SESSION_OPEN_MS  # the session's 09:15, as the frame anchors bars
    return day, (index_ms - open_ms) // TIMEFRAMES_MS[tf]


def by_time_of_day(
    fn: Callable[[FloatArray], FloatArray], x: FloatArray, index_ms: NDArray[np.int64], tf: str
) -> FloatArray:
    """``fn`` (a rolling function over rows) applied to each time-of-day slot's own series of sessions.

    The (T, N) panel is scattered onto a (sessions, slots x N) grid, so ``fn`` runs once over every slot and
    instrument together; a session without that slot (a half day, a special session) is a gap there, which the
    indicators' gap rule steps over."""
    v = as_panel(x)
    if tf == "1d" or v.shape[0] == 0:
        return fn(v)
    day, slot = slots(index_ms, tf)
    _, s_idx = np.unique(day, return_inverse=True)
    _, k_idx = np.unique(slot, return_inverse=True)
    n_sessions, n_slots, n_cols = int(s_idx.max()) + 1, int(k_idx.max()) + 1, v.shape[1]
    grid = np.full((n_sessions, n_slots, n_cols), np.nan)
    grid[s_idx, k_idx, :] = v
    out = np.asarray(fn(grid.reshape(n_sessions, n_slots * n_cols)), dtype=np.float64)
    return np.asfortranarray(out.reshape(n_sessions, n_slots, n_cols)[s_idx, k_idx, :])


def baseline(x: FloatArray, index_ms: NDArray[np.int64], tf: str, n: int) -> FloatArray:
    """The mean of the ``n`` earlier sessions' values at this bar's time of day (NaN until there are n)."""
    # over each column's own bars: "earlier sessions" skips a session that lacked the slot
    return by_time_of_day(lambda v: over_bars(lambda w: shift(ta.sma(w, n), 1), (v,)), x, index_ms, tf)


def volume_spike(
    volume: FloatArray, index_ms: NDArray[np.int64], tf: str, multiple: float, n: int
) -> FloatArray:
    """Volume above ``multiple`` times its time-of-day baseline over ``n`` sessions."""
    v = as_panel(volume)
    base = baseline(v, index_ms, tf, n)
    with np.errstate(invalid="ignore"):
        return np.asarray(v > multiple * base)


def unusual(series: FloatArray, index_ms: NDArray[np.int64], tf: str, z: float, n: int) -> FloatArray:
    """The value is ``z`` population deviations above its time-of-day history of ``n`` sessions."""
    scores = by_time_of_day(lambda v: zscore(v, n), series, index_ms, tf)
    with np.errstate(invalid="ignore"):
        return np.asarray(scores >= z)
