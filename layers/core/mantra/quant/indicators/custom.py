"""Indicators TA-Lib lacks: session VWAP, Supertrend, floor pivots, Heikin-Ashi, relative strength, z-score.

All take (time x instrument) arrays (or 1-D) with time on axis 0 and return the same shape; none looks ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mantra.quant.indicators import ta
from mantra.quant.indicators._columns import FloatArray, as_panel, over_bars, shift

IntArray = NDArray[np.int64]


def _col(v: NDArray[np.float64] | IntArray, ndim: int) -> NDArray[np.float64] | IntArray:
    return v.reshape((-1,) + (1,) * (ndim - 1))


def session_starts(session_ids: ArrayLike) -> IntArray:
    """Row indices where a new session (e.g. an IST trading date) begins; ``session_ids`` is shape (T,)."""
    ids = np.asarray(session_ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(([0], np.flatnonzero(ids[1:] != ids[:-1]) + 1)).astype(np.int64)


def session_cumsum(x: FloatArray, session_ids: ArrayLike) -> FloatArray:
    """Cumulative sum of ``x`` along time that restarts at every session."""
    cum = np.cumsum(x, axis=0)
    starts = session_starts(session_ids)
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, x.shape[0])))
    before = np.zeros((len(starts), *x.shape[1:]))
    nonzero = starts > 0
    before[nonzero] = cum[starts[nonzero] - 1]
    return np.asarray(cum - before[seg], dtype=np.float64)


def vwap(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike, session_ids: ArrayLike
) -> FloatArray:
    """Session-anchored VWAP of the typical price (TradingView's ``ta.vwap(hlc3)``): restarts each session; a bar
    without volume carries the VWAP on; no value until the session has traded volume, nor on a missing bar."""
    h, lo, c, v = as_panel(high), as_panel(low), as_panel(close), as_panel(volume)
    typical = (h + lo + c) / 3.0
    v = np.nan_to_num(v, nan=0.0)
    pv = session_cumsum(np.nan_to_num(typical * v, nan=0.0), session_ids)
    vol = session_cumsum(v, session_ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((vol > 0) & np.isfinite(typical), pv / vol, np.nan)


def supertrend(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 10, multiplier: float = 3.0
) -> tuple[FloatArray, FloatArray]:
    """(supertrend line, direction +1 up / -1 down) as TradingView's ``ta.supertrend(multiplier, n)`` computes it.

    Bands are ``hl2 +/- multiplier * ATR`` with Pine's ATR (RMA of the true range, seeded with the mean of the
    first ``n`` true ranges, the first being high - low); the final upper band only moves down (the lower only up)
    until a close goes through it; the first bar with an ATR starts down-trend; the trend turns up when the close
    goes above the current final upper band and down when it goes below the lower. Pine's direction is the
    opposite sign (-1 = up). Runs over each symbol's own bars (the gap rule in ``_columns``).
    """
    period = ta._period(n)
    return over_bars(lambda h, lo, c: _supertrend(h, lo, c, period, multiplier), (high, low, close), n_out=2)


def pine_atr(h: FloatArray, lo: FloatArray, c: FloatArray, n: int) -> FloatArray:
    """``ta.atr(n)`` of Pine: ``ta.rma(ta.tr(true), n)``, on gap-free (time x instrument) panels."""
    prev = shift(c, 1)
    tr = np.fmax(
        h - lo, np.fmax(np.abs(h - prev), np.abs(lo - prev))
    )  # fmax: the first bar's TR is high - low
    out = np.full_like(tr, np.nan)
    if tr.shape[0] < n:
        return out
    out[n - 1] = tr[:n].mean(axis=0)
    alpha = 1.0 / n
    for t in range(n, tr.shape[0]):
        out[t] = alpha * tr[t] + (1.0 - alpha) * out[t - 1]
    return out


def _supertrend(
    h: FloatArray, lo: FloatArray, c: FloatArray, n: int, multiplier: float
) -> tuple[FloatArray, FloatArray]:
    """Sequential in time, vectorised across instruments; panels without gaps."""
    atr_ = pine_atr(h, lo, c, n)
    mid = (h + lo) / 2.0
    basic_up, basic_dn = mid + multiplier * atr_, mid - multiplier * atr_
    line = np.full_like(c, np.nan)
    direction = np.full_like(c, np.nan)
    upper = lower = np.zeros(c.shape[1])  # Pine's nz() of the bands before the first ATR
    for t in range(n - 1, c.shape[0]):
        prev_close = c[t - 1] if t > 0 else np.full(c.shape[1], np.nan)
        bu, bd = basic_up[t], basic_dn[t]
        new_lower = np.where((bd > lower) | (prev_close < lower), bd, lower)
        new_upper = np.where((bu < upper) | (prev_close > upper), bu, upper)
        if t == n - 1:  # na(atr[1]): the first bar starts down-trend
            d = np.full(c.shape[1], -1.0)
        else:
            was_down = direction[t - 1] < 0
            d = np.where(
                was_down, np.where(c[t] > new_upper, 1.0, -1.0), np.where(c[t] < new_lower, -1.0, 1.0)
            )
        upper, lower = new_upper, new_lower
        direction[t] = d
        line[t] = np.where(d > 0, lower, upper)
    return line, direction


@dataclass(frozen=True)
class Pivots:
    """Classic floor pivots from the previous session's high, low and close."""

    pivot: FloatArray
    r1: FloatArray
    r2: FloatArray
    r3: FloatArray
    s1: FloatArray
    s2: FloatArray
    s3: FloatArray


def pivot_points(high: ArrayLike, low: ArrayLike, close: ArrayLike, session_ids: ArrayLike) -> Pivots:
    """Each bar gets the pivots of the symbol's previous session (daily bars: its previous bar), by TradingView's
    "Pivot Points Standard", type Traditional."""
    levels = over_bars(_pivot_levels, (high, low, close), n_out=7, by_row=(session_ids,))
    return Pivots(*levels)


def _pivot_levels(
    h: FloatArray, lo: FloatArray, c: FloatArray, session_ids: ArrayLike
) -> tuple[FloatArray, ...]:
    starts = session_starts(session_ids)
    ends = np.append(starts[1:], h.shape[0]) - 1
    sh = np.fmax.reduceat(h, starts, axis=0)
    sl = np.fmin.reduceat(lo, starts, axis=0)
    sc = c[ends]
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, h.shape[0])))
    ph, pl, pc = (shift(a, 1)[seg] for a in (sh, sl, sc))
    p = (ph + pl + pc) / 3.0
    return (p, 2 * p - pl, p + (ph - pl), ph + 2 * (p - pl), 2 * p - ph, p - (ph - pl), pl - 2 * (ph - p))


def _linear_recurrence(a: float, b: FloatArray) -> FloatArray:
    """y[t] = a * y[t-1] + b[t] with y[-1] = 0, by a doubling scan (log2 steps; stops once a^k underflows)."""
    y = np.array(b, dtype=np.float64, copy=True)
    step, power = 1, a
    t_len = y.shape[0]
    while step < t_len and abs(power) > 1e-18:
        y[step:] += power * y[:-step]
        step *= 2
        power *= power
    return y


@dataclass(frozen=True)
class HeikinAshi:
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray


def heikin_ashi(open_: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike) -> HeikinAshi:
    """HA close = mean of OHLC; HA open[t] = (HA open[t-1] + HA close[t-1]) / 2, seeded with (open + close) / 2
    (TradingView's Heikin Ashi); over each symbol's own bars."""
    return HeikinAshi(*over_bars(_heikin_ashi, (open_, high, low, close), n_out=4))


def _heikin_ashi(o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray) -> tuple[FloatArray, ...]:
    ha_close = (o + h + lo + c) / 4.0
    b = np.empty_like(ha_close)
    b[0] = (o[0] + c[0]) / 2.0
    b[1:] = 0.5 * ha_close[:-1]
    ha_open = _linear_recurrence(0.5, b)
    return ha_open, np.fmax(h, np.fmax(ha_open, ha_close)), np.fmin(lo, np.fmin(ha_open, ha_close)), ha_close


def relative_strength(close: ArrayLike, benchmark: ArrayLike, n: int = 55) -> FloatArray:
    """Percent out- or under-performance over ``n`` bars: ((close/close[n]) / (index/index[n]) - 1) * 100.

    ``benchmark`` is the index close, shape (T,) (broadcast over instruments) or like ``close``; the ``n`` bars are
    the symbol's own (the gap rule).
    """
    c = as_panel(close)
    bm = as_panel(benchmark)
    if bm.ndim == 1 and c.ndim == 2:
        bm = np.asfortranarray(np.broadcast_to(bm[:, None], c.shape))
    return over_bars(lambda x, b: _relative_strength(x, b, n), (c, bm))


def _relative_strength(c: FloatArray, bm: FloatArray, n: int) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(((c / shift(c, n)) / (bm / shift(bm, n)) - 1.0) * 100.0)


def rs_ratio(close: ArrayLike, benchmark: ArrayLike) -> FloatArray:
    """The price ratio instrument / index (a rising line = outperforming)."""
    c, bm = as_panel(close), as_panel(benchmark)
    if bm.ndim == 1 and c.ndim == 2:
        bm = bm[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return c / bm


def zscore(x: ArrayLike, n: int = 20) -> FloatArray:
    """How unusual the current value is against the ``n`` bars before it (mean and population deviation exclude
    it); over each symbol's own bars."""
    return over_bars(lambda v: _zscore(v, n), (x,))


def _zscore(v: FloatArray, n: int) -> FloatArray:
    prior = shift(v, 1)
    mean = ta.sma(prior, n)
    sd = ta.stddev(prior, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, (v - mean) / sd, np.nan)
