"""The strategy library: signal functions on (T, N) panels, registered with typed parameters.

Every function reads bars up to t to decide on bar t (TA-Lib indicators are causal; rolling windows end at t).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import talib

from mantra.quant.backtest.data import Bars, FloatArray
from mantra.quant.backtest.engine import BoolArray, Signals, Sizing
from mantra.quant.indicators import custom
from mantra.quant.strategies.cointegration import engle_granger
from mantra.quant.strategies.registry import Param, StrategyError, StrategySpec, register


def _per_column(fn: Any, *arrays: FloatArray, **kw: Any) -> FloatArray:
    """Apply a 1-D TA-Lib function to each column (rows of a transposed contiguous copy)."""
    if arrays[0].shape[1] == 1:
        return np.asarray(fn(*(np.ascontiguousarray(a[:, 0]) for a in arrays), **kw)).reshape(-1, 1)
    cols = [np.ascontiguousarray(a.T) for a in arrays]
    out = np.empty((arrays[0].shape[1], arrays[0].shape[0]))
    for j in range(out.shape[0]):
        out[j] = fn(*(c[j] for c in cols), **kw)
    return out.T


def crossed_above(a: FloatArray, b: FloatArray) -> BoolArray:
    """True on bar t when a[t-1] < b[t-1] and a[t] > b[t] (NaN compares False: no cross during warm-up)."""
    out = np.zeros(a.shape, dtype=bool)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] < b[:-1])
    return out


def _fast_lt_slow(p: Mapping[str, Any]) -> None:
    if p["fast"] >= p["slow"]:
        raise StrategyError(f"fast ({p['fast']}) must be shorter than slow ({p['slow']})")


# --- trend


def sma_cross(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Long when SMA(fast) crosses above SMA(slow), flat when it crosses below."""
    f = _per_column(talib.SMA, bars.close, timeperiod=int(p["fast"]))
    s = _per_column(talib.SMA, bars.close, timeperiod=int(p["slow"]))
    return Signals(crossed_above(f, s), crossed_above(s, f))


def ema_cross(bars: Bars, p: Mapping[str, Any]) -> Signals:
    f = _per_column(talib.EMA, bars.close, timeperiod=int(p["fast"]))
    s = _per_column(talib.EMA, bars.close, timeperiod=int(p["slow"]))
    return Signals(crossed_above(f, s), crossed_above(s, f))


def donchian_breakout(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Long when the close breaks the highest high of the previous ``entry`` bars; out below the lowest low of
    the previous ``exit`` bars (the channel excludes the current bar)."""
    hi = _per_column(talib.MAX, bars.high, timeperiod=int(p["entry"]))
    lo = _per_column(talib.MIN, bars.low, timeperiod=int(p["exit"]))
    prev_hi = np.full_like(hi, np.nan)
    prev_lo = np.full_like(lo, np.nan)
    prev_hi[1:] = hi[:-1]
    prev_lo[1:] = lo[:-1]
    return Signals(bars.close > prev_hi, bars.close < prev_lo)


def supertrend_line(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int, mult: float
) -> FloatArray:
    """Direction (+1 up / -1 down, 0 during warm-up) of the scanner's Supertrend (TradingView's definition)."""
    _, direction = custom.supertrend(high, low, close, period, mult)
    return np.nan_to_num(direction, nan=0.0)


def supertrend(bars: Bars, p: Mapping[str, Any]) -> Signals:
    d = np.empty_like(bars.close)
    for j in range(bars.n_symbols):
        d[:, j] = supertrend_line(
            bars.high[:, j], bars.low[:, j], bars.close[:, j], int(p["period"]), float(p["multiplier"])
        )
    prev = np.zeros_like(d)
    prev[1:] = d[:-1]
    up = (d == 1) & (prev == -1)
    down = (d == -1) & (prev == 1)
    if p["short"]:
        return Signals(up, down, down, up)
    return Signals(up, down)


# --- mean reversion


def rsi_reversion(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Buy when RSI closes below ``entry`` (oversold), sell when it closes above ``exit``."""
    rsi = _per_column(talib.RSI, bars.close, timeperiod=int(p["period"]))
    return Signals(rsi < float(p["entry"]), rsi > float(p["exit"]))


def _rsi_check(p: Mapping[str, Any]) -> None:
    if p["entry"] >= p["exit"]:
        raise StrategyError(f"entry ({p['entry']}) must be below exit ({p['exit']})")


def bollinger_reversion(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Buy a close below the lower band (SMA - k sd), sell a close above the middle band."""
    period, k = int(p["period"]), float(p["k"])
    mid = _per_column(talib.SMA, bars.close, timeperiod=period)
    sd = _per_column(talib.STDDEV, bars.close, timeperiod=period, nbdev=1.0)
    lower = mid - k * sd
    return Signals(bars.close < lower, bars.close > mid)


# --- cross-sectional


def _momentum(close: FloatArray, lookback: int) -> FloatArray:
    m = np.full_like(close, np.nan)
    m[lookback:] = close[lookback:] / close[:-lookback] - 1.0
    return m


def _holdings_to_signals(hold: BoolArray, rebal: BoolArray) -> Signals:
    """Target holdings decided on rebalance bars -> entries/exits on those bars."""
    prev = np.zeros_like(hold)
    prev[1:] = hold[:-1]
    entries = hold & ~prev & rebal[:, None]
    exits = ~hold & prev & rebal[:, None]
    return Signals(entries, exits)


def _rebalance_bars(n: int, every: int, start: int) -> BoolArray:
    r = np.zeros(n, dtype=bool)
    r[start::every] = True
    return r


def _carry(target: BoolArray, rebal: BoolArray) -> BoolArray:
    """Holdings only change on rebalance bars: forward-fill the target from the last rebalance."""
    idx = np.where(rebal, np.arange(rebal.shape[0]), -1)
    idx = np.maximum.accumulate(idx)
    out = np.zeros_like(target)
    ok = idx >= 0
    out[ok] = target[idx[ok]]
    return out


def dual_momentum(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Antonacci-style: on each rebalance hold the symbol with the best ``lookback`` return
    (relative momentum),    only if that return beats ``threshold`` (absolute momentum), else stay in cash."""
    lb, every = int(p["lookback"]), int(p["rebalance"])
    mom = _momentum(bars.close, lb)
    safe = np.where(np.isnan(mom), -np.inf, mom)
    best = np.argmax(safe, axis=1)
    t_idx = np.arange(bars.n_bars)
    target = np.zeros_like(bars.close, dtype=bool)
    ok = safe[t_idx, best] > float(p["threshold"])
    target[t_idx[ok], best[ok]] = True
    rebal = _rebalance_bars(bars.n_bars, every, lb)
    return _holdings_to_signals(_carry(target, rebal), rebal)


def rs_rotation(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Relative-strength rotation: every ``rebalance`` bars hold the ``top`` symbols by ``lookback`` return
    (equal    weight), optionally only those with a positive return."""
    lb, every, top = int(p["lookback"]), int(p["rebalance"]), int(p["top"])
    if top > bars.n_symbols:
        raise StrategyError(f"top={top} but only {bars.n_symbols} symbols")
    mom = _momentum(bars.close, lb)
    safe = np.where(np.isnan(mom), -np.inf, mom)
    order = np.argsort(-safe, axis=1, kind="stable")
    target = np.zeros_like(bars.close, dtype=bool)
    rows = np.arange(bars.n_bars)[:, None]
    target[rows, order[:, :top]] = True
    target &= np.isfinite(safe)
    if p["positive_only"]:
        target &= safe > 0
    rebal = _rebalance_bars(bars.n_bars, every, lb)
    return _holdings_to_signals(_carry(target, rebal), rebal)


# --- pairs

PAIR_GROSS = 0.98  # both legs together, as a fraction of equity (the rest pays the costs)


def pairs_trading(bars: Bars, p: Mapping[str, Any]) -> Signals:
    """Two symbols (y = column 0, x = column 1).  Every ``retest`` bars the last ``formation`` bars of log
    prices are tested for cointegration (Engle-Granger, 5 %) and the hedge ratio b re-estimated; while
    cointegrated (and b > 0), z = (spread - mean) / sd over that window.  z > entry_z: short y / long x;
    z < -entry_z: long y / short x; |z| < exit_z or the pair fails the test: flat.  The legs are sized by
    the hedge ratio: x's notional is b times y's, together ``PAIR_GROSS`` of equity, so the book holds the
    spread and not a bet on either stock."""
    if bars.n_symbols != 2:
        raise StrategyError(f"pairs_trading needs exactly 2 symbols, got {bars.n_symbols}")
    form, retest = int(p["formation"]), int(p["retest"])
    ez, xz = float(p["entry_z"]), float(p["exit_z"])
    ly, lx_ = np.log(bars.close[:, 0]), np.log(bars.close[:, 1])
    t_len = bars.n_bars
    z = np.full(t_len, np.nan)
    hedge = np.full(t_len, np.nan)
    a = b = mu = sd = 0.0
    ok = False
    for t in range(form - 1, t_len):
        if (t - form + 1) % retest == 0:
            ys, xs = ly[t - form + 1 : t + 1], lx_[t - form + 1 : t + 1]
            eg = engle_granger(ys, xs)
            a, b = eg.alpha, eg.beta
            ok = eg.cointegrated(0.05) and b > 0
            spread = ys - a - b * xs
            mu, sd = float(spread.mean()), float(spread.std(ddof=1))
        if ok and sd > 0:
            z[t] = (ly[t] - a - b * lx_[t] - mu) / sd
            hedge[t] = b
    valid = ~np.isnan(z)
    zz = np.where(valid, z, 0.0)
    short_spread = valid & (zz > ez)
    long_spread = valid & (zz < -ez)
    flat = ~valid | (np.abs(zz) < xz)
    n = bars.close.shape
    le = np.zeros(n, dtype=bool)
    lx = np.zeros(n, dtype=bool)
    se = np.zeros(n, dtype=bool)
    sx = np.zeros(n, dtype=bool)
    le[:, 0], se[:, 1] = long_spread, long_spread
    se[:, 0], le[:, 1] = short_spread, short_spread
    lx[:, 0] = lx[:, 1] = flat
    sx[:, 0] = sx[:, 1] = flat
    weights = np.column_stack([PAIR_GROSS / (1 + hedge), PAIR_GROSS * hedge / (1 + hedge)])
    return Signals(le, lx, se, sx, weights)


def _pairs_check(p: Mapping[str, Any]) -> None:
    if p["exit_z"] >= p["entry_z"]:
        raise StrategyError(f"exit_z ({p['exit_z']}) must be below entry_z ({p['entry_z']})")


# --- registration

_FAST = Param("fast", int, 10, "fast moving-average period (bars)", min=1, max=10_000)
_SLOW = Param("slow", int, 20, "slow moving-average period (bars)", min=2, max=10_000)

register(
    StrategySpec(
        "sma_cross",
        "Long on SMA(fast) crossing above SMA(slow), flat on the cross below.",
        (_FAST, _SLOW),
        sma_cross,
        check=_fast_lt_slow,
        tags=("trend",),
    )
)
register(
    StrategySpec(
        "ema_cross",
        "Long on EMA(fast) crossing above EMA(slow), flat on the cross below.",
        (_FAST, _SLOW),
        ema_cross,
        check=_fast_lt_slow,
        tags=("trend",),
    )
)
register(
    StrategySpec(
        "rsi_reversion",
        "Buy when RSI(period) < entry, sell when RSI > exit.",
        (
            Param("period", int, 14, "RSI period", min=2, max=500),
            Param("entry", float, 30.0, "oversold level", min=0, max=100),
            Param("exit", float, 55.0, "exit level", min=0, max=100),
        ),
        rsi_reversion,
        check=_rsi_check,
        tags=("mean_reversion",),
    )
)
register(
    StrategySpec(
        "bollinger_reversion",
        "Buy a close below the lower Bollinger band, sell above the middle band.",
        (
            Param("period", int, 20, "band period", min=2, max=1000),
            Param("k", float, 2.0, "band width in standard deviations", min=0.1, max=10),
        ),
        bollinger_reversion,
        tags=("mean_reversion",),
    )
)
register(
    StrategySpec(
        "donchian_breakout",
        "Long on a close above the prior entry-bar high, out below the prior exit-bar low.",
        (
            Param("entry", int, 20, "breakout channel (bars)", min=2, max=1000),
            Param("exit", int, 10, "exit channel (bars)", min=2, max=1000),
        ),
        donchian_breakout,
        tags=("trend",),
    )
)
register(
    StrategySpec(
        "supertrend",
        "Long while Supertrend(period, multiplier) is up; optionally short while it is down.",
        (
            Param("period", int, 10, "ATR period", min=2, max=500),
            Param("multiplier", float, 3.0, "ATR multiple", min=0.1, max=20),
            Param("short", bool, False, "also trade the down trend short"),
        ),
        supertrend,
        tags=("trend",),
    )
)
register(
    StrategySpec(
        "dual_momentum",
        "Hold the best performer over lookback if it beats threshold, else cash (N >= 1 symbols).",
        (
            Param("lookback", int, 126, "momentum lookback (bars)", min=2, max=2000),
            Param("rebalance", int, 21, "bars between rebalances", min=1, max=500),
            Param("threshold", float, 0.0, "absolute momentum hurdle (e.g. T-bill return over lookback)"),
        ),
        dual_momentum,
        tags=("momentum", "portfolio"),
    )
)
register(
    StrategySpec(
        "rs_rotation",
        "Hold the top-k symbols by lookback return, equal weight, rebalanced periodically.",
        (
            Param("lookback", int, 63, "relative-strength lookback (bars)", min=2, max=2000),
            Param("rebalance", int, 21, "bars between rebalances", min=1, max=500),
            Param("top", int, 2, "number of symbols held", min=1, max=500),
            Param("positive_only", bool, True, "hold only symbols with a positive lookback return"),
        ),
        rs_rotation,
        min_symbols=2,
        sizing=lambda p, n: Sizing("percent_equity", 1.0 / int(p["top"]) * 0.99),
        tags=("momentum", "portfolio"),
    )
)
register(
    StrategySpec(
        "pairs_trading",
        "Cointegrated pair (Engle-Granger): trade the z-score of the spread, both legs.",
        (
            Param("formation", int, 120, "bars in the cointegration / hedge-ratio window", min=20, max=5000),
            Param("retest", int, 20, "bars between re-tests", min=1, max=5000),
            Param("entry_z", float, 2.0, "enter beyond this z-score", min=0.1, max=10),
            Param("exit_z", float, 0.5, "exit inside this z-score", min=0.0, max=10),
        ),
        pairs_trading,
        min_symbols=2,
        max_symbols=2,
        check=_pairs_check,
        tags=("stat_arb", "portfolio"),
    )
)


from mantra.quant.strategies import options as _options  # noqa: E402, F401 - registers the option strategies
