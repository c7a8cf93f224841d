"""Indicators TA-Lib lacks: session VWAP, Supertrend, floor pivots, Heikin-Ashi, relative strength, z-score.

All take (time x instrument) arrays (or 1-D) with time on axis 0 and return the same shape; none looks ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mantra.quant.indicators import ta
from mantra.quant.indicators._columns import FloatArray, as_panel, shift

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
    """Session-anchored VWAP of the typical price; restarts at each session. Bars without volume carry on."""
    h, lo, c, v = as_panel(high), as_panel(low), as_panel(close), as_panel(volume)
    typical = (h + lo + c) / 3.0
    v = np.nan_to_num(v, nan=0.0)
    pv = session_cumsum(np.nan_to_num(typical * v, nan=0.0), session_ids)
    vol = session_cumsum(v, session_ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(vol > 0, pv / vol, typical)


def supertrend(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 10, multiplier: float = 3.0
) -> tuple[FloatArray, FloatArray]:
    """(supertrend line, direction +1 up / -1 down), on ATR(n) bands around the bar midpoint.

    The final upper band only moves down (and the lower only up) until price closes through it, as in the usual
    definition; the direction flips when the close crosses the opposite band.
    """
    h, lo, c = as_panel(high), as_panel(low), as_panel(close)
    one_d = c.ndim == 1
    if one_d:
        h, lo, c = h[:, None], lo[:, None], c[:, None]
    atr_ = ta.atr(h, lo, c, n)
    mid = (h + lo) / 2.0
    basic_up, basic_dn = mid + multiplier * atr_, mid - multiplier * atr_
    width = c.shape[1]
    up = np.full_like(c, np.nan)
    dn = np.full_like(c, np.nan)
    direction = np.zeros_like(c)
    if width >= 8:
        _supertrend_vector(basic_up, basic_dn, c, up, dn, direction)
    else:
        for j in range(width):
            _supertrend_scalar(basic_up[:, j], basic_dn[:, j], c[:, j], up[:, j], dn[:, j], direction[:, j])
    line = np.where(direction > 0, dn, np.where(direction < 0, up, np.nan))
    direction[direction == 0] = np.nan
    if one_d:
        return line[:, 0], direction[:, 0]
    return line, direction


def _supertrend_vector(
    bu: FloatArray, bd: FloatArray, c: FloatArray, up: FloatArray, dn: FloatArray, d: FloatArray
) -> None:
    """Sequential in time, vectorised across instruments."""
    for t in range(c.shape[0]):
        if t == 0:
            up[0], dn[0] = bu[0], bd[0]
            continue
        pu, pd, pc = up[t - 1], dn[t - 1], c[t - 1]
        fresh = np.isnan(pu)
        up[t] = np.where(fresh | (bu[t] < pu) | (pc > pu), bu[t], pu)
        dn[t] = np.where(fresh | (bd[t] > pd) | (pc < pd), bd[t], pd)
        prev = d[t - 1]
        start = (prev == 0) & ~np.isnan(up[t])
        flip_up = (prev < 0) & (c[t] > pu)
        flip_dn = (prev > 0) & (c[t] < pd)
        cur = np.where(start, np.where(c[t] >= (up[t] + dn[t]) / 2, 1.0, -1.0), prev)
        cur = np.where(flip_up, 1.0, np.where(flip_dn, -1.0, cur))
        d[t] = cur


def _supertrend_scalar(
    bu: FloatArray, bd: FloatArray, c: FloatArray, up: FloatArray, dn: FloatArray, d: FloatArray
) -> None:
    """The same recursion on Python floats: fast for one long column."""
    bul, bdl, cl = bu.tolist(), bd.tolist(), c.tolist()
    n = len(cl)
    uo, do, dd = [float("nan")] * n, [float("nan")] * n, [0.0] * n
    pu = pd = float("nan")
    prev = 0.0
    for t in range(n):
        b_u, b_d = bul[t], bdl[t]
        if t == 0 or pu != pu:
            u, dw = b_u, b_d
        else:
            pc = cl[t - 1]
            u = b_u if (b_u < pu or pc > pu) else pu
            dw = b_d if (b_d > pd or pc < pd) else pd
        cur = prev
        if u == u:
            if prev == 0.0:
                cur = 1.0 if cl[t] >= (u + dw) / 2 else -1.0
            elif prev < 0 and cl[t] > pu:
                cur = 1.0
            elif prev > 0 and cl[t] < pd:
                cur = -1.0
        uo[t], do[t], dd[t] = u, dw, cur
        pu, pd, prev = u, dw, cur
    up[:], dn[:], d[:] = uo, do, dd


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
    """Each bar gets the pivots of the session before its own (daily bars: the previous day)."""
    h, lo, c = as_panel(high), as_panel(low), as_panel(close)
    starts = session_starts(session_ids)
    ends = np.append(starts[1:], h.shape[0]) - 1
    sh = np.fmax.reduceat(h, starts, axis=0)
    sl = np.fmin.reduceat(lo, starts, axis=0)
    sc = c[ends]
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, h.shape[0])))
    ph, pl, pc = (shift(a, 1)[seg] for a in (sh, sl, sc))
    p = (ph + pl + pc) / 3.0
    return Pivots(
        pivot=p,
        r1=2 * p - pl,
        s1=2 * p - ph,
        r2=p + (ph - pl),
        s2=p - (ph - pl),
        r3=ph + 2 * (p - pl),
        s3=pl - 2 * (ph - p),
    )


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
    """HA close = mean of OHLC; HA open[t] = (HA open[t-1] + HA close[t-1]) / 2, seeded with (open + close) / 2."""
    o, h, lo, c = as_panel(open_), as_panel(high), as_panel(low), as_panel(close)
    ha_close = (o + h + lo + c) / 4.0
    b = np.empty_like(ha_close)
    b[0] = (o[0] + c[0]) / 2.0
    b[1:] = 0.5 * ha_close[:-1]
    ha_open = _linear_recurrence(0.5, b)
    return HeikinAshi(
        open=ha_open,
        high=np.fmax(h, np.fmax(ha_open, ha_close)),
        low=np.fmin(lo, np.fmin(ha_open, ha_close)),
        close=ha_close,
    )


def relative_strength(close: ArrayLike, benchmark: ArrayLike, n: int = 55) -> FloatArray:
    """Percent out- or under-performance over ``n`` bars: ((close/close[n]) / (index/index[n]) - 1) * 100.

    ``benchmark`` is the index close, shape (T,) (broadcast over instruments) or like ``close``.
    """
    c = as_panel(close)
    bm = as_panel(benchmark)
    if bm.ndim == 1 and c.ndim == 2:
        bm = bm[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((c / shift(c, n)) / (bm / shift(bm, n)) - 1.0) * 100.0


def rs_ratio(close: ArrayLike, benchmark: ArrayLike) -> FloatArray:
    """The price ratio instrument / index (a rising line = outperforming)."""
    c, bm = as_panel(close), as_panel(benchmark)
    if bm.ndim == 1 and c.ndim == 2:
        bm = bm[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return c / bm


def zscore(x: ArrayLike, n: int = 20) -> FloatArray:
    """How unusual the current value is against the ``n`` bars before it (mean and deviation exclude it)."""
    v = as_panel(x)
    prior = shift(v, 1)
    mean = ta.sma(prior, n)
    sd = ta.stddev(prior, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, (v - mean) / sd, np.nan)
