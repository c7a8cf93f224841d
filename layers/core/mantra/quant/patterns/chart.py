"""Chart and activity patterns on (time x instrument) arrays, with no look-ahead.

Swing points are *confirmed*: a swing high at bar i is known only at bar i + k (when k later bars have failed
to exceed it), so support, resistance and double tops/bottoms never use bars after the one being scanned.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mantra.quant.indicators import ta
from mantra.quant.indicators._columns import BoolArray, FloatArray, as_panel, ffill, shift

TRADING_DAYS_PER_YEAR = 250


def _gt(a: FloatArray, b: FloatArray | float) -> BoolArray:
    with np.errstate(invalid="ignore"):
        return np.asarray(a > b)


def _lt(a: FloatArray, b: FloatArray | float) -> BoolArray:
    with np.errstate(invalid="ignore"):
        return np.asarray(a < b)


def breakout(high: ArrayLike, close: ArrayLike, n: int = 20) -> BoolArray:
    """Close above the highest high of the ``n`` bars before this one."""
    return _gt(as_panel(close), shift(ta.highest(high, n), 1))


def breakdown(low: ArrayLike, close: ArrayLike, n: int = 20) -> BoolArray:
    """Close below the lowest low of the ``n`` bars before this one."""
    return _lt(as_panel(close), shift(ta.lowest(low, n), 1))


def crosses_above(a: FloatArray, b: FloatArray | float) -> BoolArray:
    """a was at or below b on the previous bar and is above it now."""
    a = as_panel(a)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    with np.errstate(invalid="ignore"):
        now = a > b_arr
        before = shift(a, 1) <= shift(np.asarray(b_arr, dtype=np.float64), 1)
    return np.asarray(now & before)


def crosses_below(a: FloatArray, b: FloatArray | float) -> BoolArray:
    a = as_panel(a)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    with np.errstate(invalid="ignore"):
        now = a < b_arr
        before = shift(a, 1) >= shift(np.asarray(b_arr, dtype=np.float64), 1)
    return np.asarray(now & before)


def golden_cross(close: ArrayLike, fast: int = 50, slow: int = 200) -> BoolArray:
    return crosses_above(ta.sma(close, fast), ta.sma(close, slow))


def death_cross(close: ArrayLike, fast: int = 50, slow: int = 200) -> BoolArray:
    return crosses_below(ta.sma(close, fast), ta.sma(close, slow))


def gap_up(low: ArrayLike, high: ArrayLike, pct: float = 0.0) -> BoolArray:
    """Today's low above yesterday's high by more than ``pct`` percent (a true gap, not just a higher open)."""
    return _gt(as_panel(low), shift(as_panel(high), 1) * (1 + pct / 100.0))


def gap_down(low: ArrayLike, high: ArrayLike, pct: float = 0.0) -> BoolArray:
    return _lt(as_panel(high), shift(as_panel(low), 1) * (1 - pct / 100.0))


def new_high(high: ArrayLike, n: int = TRADING_DAYS_PER_YEAR) -> BoolArray:
    """High above every high of the previous ``n`` bars (a 52-week high on daily bars by default)."""
    return _gt(as_panel(high), shift(ta.highest(high, n), 1))


def new_low(low: ArrayLike, n: int = TRADING_DAYS_PER_YEAR) -> BoolArray:
    return _lt(as_panel(low), shift(ta.lowest(low, n), 1))


def inside_bar(high: ArrayLike, low: ArrayLike) -> BoolArray:
    h, lo = as_panel(high), as_panel(low)
    return _lt(h, shift(h, 1)) & _gt(lo, shift(lo, 1))


def narrow_range(high: ArrayLike, low: ArrayLike, n: int = 7) -> BoolArray:
    """NR-n: this bar's range is the narrowest of the last ``n`` bars (NR7 with n=7)."""
    rng = as_panel(high) - as_panel(low)
    with np.errstate(invalid="ignore"):
        return np.asarray((rng <= ta.lowest(rng, n)) & ~np.isnan(shift(rng, n - 1)))


def trend_strength(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    """ADX signed by the dominant directional index: +40 is a strong uptrend, -40 a strong downtrend."""
    strength = ta.adx(high, low, close, n)
    sign = np.sign(ta.plus_di(high, low, close, n) - ta.minus_di(high, low, close, n))
    return np.asarray(strength * sign)


def swing_highs(high: ArrayLike, k: int = 5) -> BoolArray:
    """Bar i is a swing high when its high is the highest of bars i-k..i+k. The flag sits on bar i + k, the
    first bar at which it is known."""
    h = as_panel(high)
    window = ta.highest(h, 2 * k + 1)  # at bar t: max of t-2k..t
    centre = shift(h, k)
    with np.errstate(invalid="ignore"):
        return np.asarray((centre >= window) & ~np.isnan(window))


def swing_lows(low: ArrayLike, k: int = 5) -> BoolArray:
    lo = as_panel(low)
    window = ta.lowest(lo, 2 * k + 1)
    centre = shift(lo, k)
    with np.errstate(invalid="ignore"):
        return np.asarray((centre <= window) & ~np.isnan(window))


def resistance(high: ArrayLike, k: int = 5) -> FloatArray:
    """The most recent confirmed swing high."""
    h = as_panel(high)
    return ffill(shift(h, k), swing_highs(h, k))


def support(low: ArrayLike, k: int = 5) -> FloatArray:
    """The most recent confirmed swing low."""
    lo = as_panel(low)
    return ffill(shift(lo, k), swing_lows(lo, k))


def _two_swings(
    values: FloatArray, flags: BoolArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """At each bar: the last two confirmed swing values and the bars they happened at (as floats, NaN if none)."""
    t_len = values.shape[0]
    at = np.broadcast_to(
        np.arange(t_len, dtype=np.float64).reshape((-1,) + (1,) * (values.ndim - 1)), values.shape
    )
    peak = shift(values, k)
    peak_bar = at - k
    last_v, last_i = ffill(peak, flags), ffill(np.asarray(peak_bar), flags)
    # the previous swing, as seen at each swing: the "last" series one bar earlier, captured at swing bars
    prev_v_at = shift(last_v, 1)
    prev_i_at = shift(last_i, 1)
    return last_v, last_i, ffill(prev_v_at, flags), ffill(prev_i_at, flags)


def _segment_extreme(
    values: FloatArray, start: FloatArray, end: FloatArray, flags: BoolArray, fn: np.ufunc
) -> FloatArray:
    """For each swing flag, ``fn`` (min or max) of ``values`` over bars start..end; forward filled."""
    out = np.full(values.shape, np.nan)
    v2 = values if values.ndim == 2 else values[:, None]
    s2 = start if start.ndim == 2 else start[:, None]
    e2 = end if end.ndim == 2 else end[:, None]
    f2 = flags if flags.ndim == 2 else flags[:, None]
    o2 = out if out.ndim == 2 else out[:, None]
    rows, cols = np.nonzero(f2 & ~np.isnan(s2) & ~np.isnan(e2))
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        a, b = int(s2[r, c]), int(e2[r, c])
        o2[r, c] = fn.reduce(v2[a : b + 1, c])
    return ffill(out, flags)


def double_top(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 60, tolerance_pct: float = 2.0, k: int = 5
) -> BoolArray:
    """Two confirmed swing highs within the last ``n`` bars, within ``tolerance_pct`` of each other, with a dip
    of at least twice the tolerance between them, confirmed on the bar whose close breaks below that dip (the
    neckline)."""
    h, lo, c = as_panel(high), as_panel(low), as_panel(close)
    flags = swing_highs(h, k)
    p2, i2, p1, i1 = _two_swings(h, flags, k)
    trough = _segment_extreme(lo, i1, i2, flags, np.fmin)
    now = np.arange(h.shape[0]).reshape((-1,) + (1,) * (h.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.fmax(p1, p2)
        similar = np.abs(p1 - p2) <= top * tolerance_pct / 100.0
        deep = (np.fmin(p1, p2) - trough) >= np.fmin(p1, p2) * 2 * tolerance_pct / 100.0
        recent = (now - i1) <= n
        below = (c < trough) & (shift(c, 1) >= trough)
    return np.asarray(similar & deep & recent & below & (i2 - i1 >= k))


def double_bottom(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 60, tolerance_pct: float = 2.0, k: int = 5
) -> BoolArray:
    """Mirror of ``double_top``: two similar swing lows, a rally between them, confirmed on the close above
    the rally's high."""
    h, lo, c = as_panel(high), as_panel(low), as_panel(close)
    flags = swing_lows(lo, k)
    b2, i2, b1, i1 = _two_swings(lo, flags, k)
    peak = _segment_extreme(h, i1, i2, flags, np.fmax)
    now = np.arange(h.shape[0]).reshape((-1,) + (1,) * (h.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        bottom = np.fmin(b1, b2)
        similar = np.abs(b1 - b2) <= bottom * tolerance_pct / 100.0
        deep = (peak - np.fmax(b1, b2)) >= np.fmax(b1, b2) * 2 * tolerance_pct / 100.0
        recent = (now - i1) <= n
        above = (c > peak) & (shift(c, 1) <= peak)
    return np.asarray(similar & deep & recent & above & (i2 - i1 >= k))
