"""The function library of the scanner language: signatures (checked before anything runs) and kernels.

Each function declares its parameters (kind, default, bounds), what it returns, what it costs and how many
bars of history it needs. A series parameter with a default (``src=close``) may be omitted: ``rsi(14)`` is
``rsi(close, 14)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.quant.indicators import custom, ta
from mantra.quant.indicators._columns import BoolArray, FloatArray, shift
from mantra.quant.patterns import candlesticks, chart, time_of_day
from mantra.quant.scanner.errors import ScanDataError
from mantra.quant.scanner.frame import Frame, Panel
from mantra.quant.scanner.types import Period, Type

REQUIRED: Any = object()
MAX_PERIOD = 2000


class Ctx(Protocol):
    """What a kernel may ask of the evaluator."""

    @property
    def frame(self) -> Frame: ...
    @property
    def panel(self) -> Panel: ...
    def align(self, values: Any, src: Frame) -> Any: ...


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # series | condition | int | number | text | period
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        if self.required:
            return self.name
        return f"{self.name}={self.default}"


@dataclass(frozen=True)
class Fn:
    name: str
    params: tuple[Param, ...]
    returns: Type
    kernel: Callable[..., Any]
    doc: str
    category: str
    cost: int = 3
    lookback: Callable[..., int | dict[str, int]] = lambda **_: 0

    def signature(self) -> str:
        return f"{self.name}({', '.join(p.describe() for p in self.params)})"


FUNCTIONS: dict[str, Fn] = {}


def _reg(
    name: str,
    params: str,
    returns: Type,
    kernel: Callable[..., Any],
    doc: str,
    category: str,
    cost: int = 3,
    lookback: Callable[..., int | dict[str, int]] | None = None,
) -> None:
    FUNCTIONS[name] = Fn(
        name, _params(params), returns, kernel, doc, category, cost, lookback or (lambda **_: 0)
    )


def _params(spec: str) -> tuple[Param, ...]:
    """ "src:series=close, n:int=14[2..500]" -> Params."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        bounds = None
        if "[" in part:
            part, b = part.split("[", 1)
            bounds = b.rstrip("]").split("..")
        name, rest = part.split(":")
        kind, _, default = rest.partition("=")
        value: Any = REQUIRED
        if default:
            value = {"int": int, "number": float}.get(kind, str)(default)
        low = float(bounds[0]) if bounds else None
        high = float(bounds[1]) if bounds else None
        if kind == "int" and bounds is None:
            low, high = 1, MAX_PERIOD
        out.append(Param(name.strip(), kind, value, low, high))
    return tuple(out)


S, B, N = Type.SERIES, Type.BOOL, Type.NUMBER
SRC = "src:series=close"


def _f(ctx: Ctx) -> Frame:
    return ctx.frame


# price fields
def _field(name: str) -> Callable[..., FloatArray]:
    def kernel(ctx: Ctx) -> FloatArray:
        f = ctx.frame
        if name == "oi":
            if f.oi is None:
                return np.full(f.shape, np.nan, order="F")
            return f.oi
        value: FloatArray = getattr(f, name)
        return value

    return kernel


for _name, _doc in (
    ("open", "the bar's opening price"),
    ("high", "the bar's high"),
    ("low", "the bar's low"),
    ("close", "the bar's close (the last price for a forming bar)"),
    ("volume", "the bar's traded quantity"),
    ("oi", "open interest (F&O; empty for cash instruments)"),
):
    _reg(_name, "", S, _field(_name), _doc, "price", cost=0)
_reg("hl2", "", S, lambda c: (c.frame.high + c.frame.low) / 2, "(high + low) / 2", "price", cost=1)
_reg(
    "hlc3",
    "",
    S,
    lambda c: (c.frame.high + c.frame.low + c.frame.close) / 3,
    "typical price",
    "price",
    cost=1,
)
_reg(
    "ohlc4",
    "",
    S,
    lambda c: (c.frame.open + c.frame.high + c.frame.low + c.frame.close) / 4,
    "(open + high + low + close) / 4",
    "price",
    cost=1,
)


def _n(**a: Any) -> int:
    return int(a.get("n", 0))


# history
_reg("prev", "src:series, n:int=1", S, lambda c, x, n: shift(x, n), "the value n bars ago", "math", 1, _n)
_reg(
    "change",
    f"{SRC}, n:int=1",
    S,
    lambda c, x, n: x - shift(x, n),
    "difference from n bars ago",
    "math",
    1,
    _n,
)


def _change_pct(ctx: Ctx, period: Period) -> FloatArray:
    f = ctx.frame
    tf = period.timeframe or f.timeframe
    if tf == f.timeframe or TIMEFRAMES_MS[tf] < TIMEFRAMES_MS[f.timeframe]:
        src = ctx.panel.frame(tf)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = (src.close / shift(src.close, period.count) - 1.0) * 100.0
        return np.asarray(ctx.align(pct, src))
    # a coarser period: against the close of the completed bar(s) of that timeframe
    coarse = ctx.panel.frame(tf)
    base = ctx.align(shift(coarse.close, period.count - 1), coarse)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((f.close / base - 1.0) * 100.0)


def _period_lookback(**a: Any) -> dict[str, int]:
    p: Period = a["period"]
    return {p.timeframe or "": p.count + 1}


_reg(
    "change_pct",
    "period:period=1",
    S,
    _change_pct,
    "percent change over a period: change_pct(1d) (since the previous session's close), change_pct(5) (5 bars)",
    "math",
    2,
    _period_lookback,
)


def _per_col(fn: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    return fn


# moving averages and overlap
_fn: Callable[..., Any]
for _name, _fn, _k in (
    ("sma", ta.sma, 1),
    ("ema", ta.ema, 2),
    ("wma", ta.wma, 1),
    ("dema", ta.dema, 4),
    ("tema", ta.tema, 5),
    ("kama", ta.kama, 3),
):
    _reg(
        _name,
        f"{SRC}, n:int=20",
        S,
        (lambda fn: lambda c, x, n: fn(x, n))(_fn),
        f"{_name.upper()} of a series over n bars",
        "moving average",
        3,
        (lambda k: lambda **a: k * int(a["n"]))(_k),
    )
_reg(
    "rsi",
    f"{SRC}, n:int=14[2..500]",
    S,
    lambda c, x, n: ta.rsi(x, n),
    "RSI (0-100)",
    "momentum",
    3,
    lambda **a: 4 * a["n"],
)

_MACD = f"{SRC}, fast:int=12[2..500], slow:int=26[2..1000], signal:int=9[1..500]"


def _macd_lb(**a: Any) -> int:
    return 3 * int(a["slow"]) + int(a["signal"])


for _i, _name in enumerate(("macd", "macd_signal", "macd_hist")):
    _reg(
        _name,
        _MACD,
        S,
        (lambda i: lambda c, x, fast, slow, signal: ta.macd(x, fast, slow, signal)[i])(_i),
        ("MACD line", "MACD signal line", "MACD histogram")[_i],
        "momentum",
        4,
        _macd_lb,
    )

_BB = f"{SRC}, n:int=20[2..1000], k:number=2.0[0.1..10]"
for _i, _name in enumerate(("bb_upper", "bb_middle", "bb_lower")):
    _reg(
        _name,
        _BB,
        S,
        (lambda i: lambda c, x, n, k: ta.bbands(x, n, k)[i])(_i),
        f"Bollinger band ({_name.split('_')[1]})",
        "volatility",
        3,
        _n,
    )


def _bb_width(c: Ctx, x: FloatArray, n: int, k: float) -> FloatArray:
    up, mid, lo = ta.bbands(x, n, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (up - lo) / mid * 100.0


_reg("bb_width", _BB, S, _bb_width, "Bollinger band width as % of the middle band", "volatility", 4, _n)

_HLC = ("high", "low", "close")


def _hlc(fn: Callable[..., FloatArray]) -> Callable[..., FloatArray]:
    return lambda c, n: fn(c.frame.high, c.frame.low, c.frame.close, n)


for _name, _fn, _d, _doc, _cat in (
    ("atr", ta.atr, 14, "average true range", "volatility"),
    ("natr", ta.natr, 14, "ATR as % of close", "volatility"),
    ("adx", ta.adx, 14, "ADX trend strength (0-100)", "trend"),
    ("plus_di", ta.plus_di, 14, "+DI", "trend"),
    ("minus_di", ta.minus_di, 14, "-DI", "trend"),
    ("cci", ta.cci, 20, "commodity channel index", "momentum"),
    ("willr", ta.willr, 14, "Williams %R (-100..0)", "momentum"),
):
    _reg(_name, f"n:int={_d}[2..1000]", S, _hlc(_fn), _doc, _cat, 3, lambda **a: 4 * a["n"])
_reg(
    "mfi",
    "n:int=14[2..1000]",
    S,
    lambda c, n: ta.mfi(c.frame.high, c.frame.low, c.frame.close, c.frame.volume, n),
    "money flow index (0-100)",
    "volume",
    3,
    _n,
)
_STOCH = "k:int=14[1..500], smooth:int=3[1..100], d:int=3[1..100]"
_reg(
    "stoch_k",
    _STOCH,
    S,
    lambda c, k, smooth, d: ta.stoch(c.frame.high, c.frame.low, c.frame.close, k, smooth, d)[0],
    "stochastic slow %K",
    "momentum",
    3,
    lambda **a: a["k"] + a["smooth"] + a["d"],
)
_reg(
    "stoch_d",
    _STOCH,
    S,
    lambda c, k, smooth, d: ta.stoch(c.frame.high, c.frame.low, c.frame.close, k, smooth, d)[1],
    "stochastic slow %D",
    "momentum",
    3,
    lambda **a: a["k"] + a["smooth"] + a["d"],
)
for _name, _fn, _d in (("roc", ta.roc, 10), ("mom", ta.mom, 10), ("trix", ta.trix, 15)):
    _reg(
        _name,
        f"{SRC}, n:int={_d}",
        S,
        (lambda fn: lambda c, x, n: fn(x, n))(_fn),
        {"roc": "rate of change, %", "mom": "momentum (difference)", "trix": "TRIX"}[_name],
        "momentum",
        3,
        lambda **a: 3 * a["n"],
    )
_reg(
    "aroon_up",
    "n:int=14[2..500]",
    S,
    lambda c, n: ta.aroon(c.frame.high, c.frame.low, n)[1],
    "Aroon up",
    "trend",
    3,
    _n,
)
_reg(
    "aroon_down",
    "n:int=14[2..500]",
    S,
    lambda c, n: ta.aroon(c.frame.high, c.frame.low, n)[0],
    "Aroon down",
    "trend",
    3,
    _n,
)
_reg("obv", "", S, lambda c: ta.obv(c.frame.close, c.frame.volume), "on-balance volume", "volume", 2)
_reg(
    "ad",
    "",
    S,
    lambda c: ta.ad(c.frame.high, c.frame.low, c.frame.close, c.frame.volume),
    "accumulation/distribution line",
    "volume",
    2,
)
_reg(
    "sar",
    "accel:number=0.02[0.001..1], max:number=0.2[0.01..1]",
    S,
    lambda c, accel, max: ta.sar(c.frame.high, c.frame.low, accel, max),
    "parabolic SAR",
    "trend",
    3,
    lambda **_: 50,
)
_reg(
    "stddev",
    f"{SRC}, n:int=20[2..2000]",
    S,
    lambda c, x, n: ta.stddev(x, n),
    "standard deviation",
    "statistics",
    2,
    _n,
)
_reg(
    "zscore",
    f"{SRC}, n:int=20[2..2000]",
    S,
    lambda c, x, n: custom.zscore(x, n),
    "standard deviations from the mean of the n bars before",
    "statistics",
    4,
    lambda **a: a["n"] + 1,
)
_reg(
    "linreg_slope",
    f"{SRC}, n:int=14[2..2000]",
    S,
    lambda c, x, n: ta.linreg_slope(x, n),
    "slope of the least-squares line",
    "statistics",
    2,
    _n,
)
_reg(
    "highest",
    "src:series=high, n:int=20",
    S,
    lambda c, x, n: ta.highest(x, n),
    "highest value of the last n bars (this one included)",
    "statistics",
    2,
    _n,
)
_reg(
    "lowest",
    "src:series=low, n:int=20",
    S,
    lambda c, x, n: ta.lowest(x, n),
    "lowest value of the last n bars (this one included)",
    "statistics",
    2,
    _n,
)


# our own indicators
def _session_lookback(tf: str = "1d", **_: Any) -> int:
    """A session and the one before it, in bars of ``tf``."""
    return 2 if tf == "1d" else 2 * (375 * 60_000 // TIMEFRAMES_MS[tf] + 1)


def _vwap(c: Ctx) -> FloatArray:
    f = c.frame
    ids = f.session_ids if f.timeframe != "1d" else np.arange(f.shape[0])
    return custom.vwap(f.high, f.low, f.close, f.volume, ids)


_reg(
    "vwap", "", S, _vwap, "session-anchored VWAP (restarts every IST session)", "volume", 3, _session_lookback
)
_ST = "n:int=10[1..500], mult:number=3.0[0.1..20]"
_reg(
    "supertrend",
    _ST,
    S,
    lambda c, n, mult: custom.supertrend(c.frame.high, c.frame.low, c.frame.close, n, mult)[0],
    "Supertrend line (below price in an uptrend)",
    "trend",
    6,
    lambda **a: 4 * a["n"],
)
_reg(
    "supertrend_dir",
    _ST,
    S,
    lambda c, n, mult: custom.supertrend(c.frame.high, c.frame.low, c.frame.close, n, mult)[1],
    "Supertrend direction: 1 up, -1 down",
    "trend",
    6,
    lambda **a: 4 * a["n"],
)


def _pivots(c: Ctx) -> custom.Pivots:
    f = c.frame
    ids = f.session_ids if f.timeframe != "1d" else np.arange(f.shape[0])
    return custom.pivot_points(f.high, f.low, f.close, ids)


for _name in ("pivot", "r1", "r2", "r3", "s1", "s2", "s3"):
    _reg(
        _name,
        "",
        S,
        (lambda a: lambda c: getattr(_pivots(c), a))(_name),
        f"classic floor {'pivot' if _name == 'pivot' else _name.upper()} from the previous session",
        "levels",
        2,
        _session_lookback,
    )
for _name in ("open", "high", "low", "close"):
    _reg(
        f"ha_{_name}",
        "",
        S,
        (
            lambda a: (
                lambda c: getattr(
                    custom.heikin_ashi(c.frame.open, c.frame.high, c.frame.low, c.frame.close), a
                )
            )
        )(_name),
        f"Heikin-Ashi {_name}",
        "price",
        2,
        lambda **_: 60,
    )


def _bench(c: Ctx) -> FloatArray:
    if c.frame.benchmark is None:
        raise ScanDataError("relative strength needs the benchmark index (NIFTY 50) in the data")
    return c.frame.benchmark


_reg(
    "rs",
    "n:int=55[1..2000]",
    S,
    lambda c, n: custom.relative_strength(c.frame.close, _bench(c), n),
    "relative strength vs the index over n bars, % (positive = outperforming)",
    "relative strength",
    3,
    lambda **a: a["n"] + 1,
)
_reg(
    "rs_ratio",
    "",
    S,
    lambda c: custom.rs_ratio(c.frame.close, _bench(c)),
    "price ratio to the index",
    "relative strength",
    2,
)

# math
_reg("abs", "x:series", S, lambda c, x: np.abs(x), "absolute value", "math", 1)
_reg("max", "a:series, b:series", S, lambda c, a, b: np.fmax(a, b), "larger of two values", "math", 1)
_reg("min", "a:series, b:series", S, lambda c, a, b: np.fmin(a, b), "smaller of two values", "math", 1)


# conditions over time
def _within(c: Ctx, cond: BoolArray, n: int) -> BoolArray:
    return np.asarray(ta.highest(cond.astype(np.float64), n) > 0) if n > 1 else cond


def _count(c: Ctx, cond: BoolArray, n: int) -> FloatArray:
    return ta.rolling_sum(cond.astype(np.float64), n)


def _bars_since(c: Ctx, cond: BoolArray) -> FloatArray:
    t = cond.shape[0]
    idx = np.arange(t, dtype=np.float64).reshape((-1,) + (1,) * (cond.ndim - 1))
    last = np.where(cond, idx, np.nan)
    from mantra.quant.indicators._columns import ffill

    seen = ffill(last, cond)
    return np.asarray(idx - seen, dtype=np.float64)


_reg(
    "within", "cond:condition, n:int=5[1..2000]", B, _within, "true on any of the last n bars", "time", 2, _n
)
_reg("count", "cond:condition, n:int=5[1..2000]", S, _count, "on how many of the last n bars", "time", 2, _n)
_reg(
    "bars_since", "cond:condition", S, _bars_since, "bars since it was last true", "time", 2, lambda **_: 200
)


# candlestick patterns
def _pattern(c: Ctx, name: str) -> BoolArray:
    f = c.frame
    return candlesticks.detect(name, f.open, f.high, f.low, f.close)


_reg(
    "pattern",
    "name:text",
    B,
    _pattern,
    'a candlestick pattern by name, e.g. pattern("hammer")',
    "pattern",
    4,
    lambda **_: 15,
)

# chart and activity patterns
_reg(
    "breakout",
    "n:int=20[2..2000]",
    B,
    lambda c, n: chart.breakout(c.frame.high, c.frame.close, n),
    "close above the highest high of the previous n bars",
    "pattern",
    3,
    lambda **a: a["n"] + 1,
)
_reg(
    "breakdown",
    "n:int=20[2..2000]",
    B,
    lambda c, n: chart.breakdown(c.frame.low, c.frame.close, n),
    "close below the lowest low of the previous n bars",
    "pattern",
    3,
    lambda **a: a["n"] + 1,
)
_reg(
    "support",
    "k:int=5[1..100]",
    S,
    lambda c, k: chart.support(c.frame.low, k),
    "the most recent confirmed swing low",
    "levels",
    4,
    lambda **_: 250,
)
_reg(
    "resistance",
    "k:int=5[1..100]",
    S,
    lambda c, k: chart.resistance(c.frame.high, k),
    "the most recent confirmed swing high",
    "levels",
    4,
    lambda **_: 250,
)


def _near(level: Callable[..., FloatArray]) -> Callable[..., BoolArray]:
    def kernel(c: Ctx, pct: float, k: int) -> BoolArray:
        lv = level(c, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.abs(c.frame.close - lv) <= lv * pct / 100.0)

    return kernel


_reg(
    "near_support",
    "pct:number=1.5[0..50], k:int=5[1..100]",
    B,
    _near(lambda c, k: chart.support(c.frame.low, k)),
    "close within pct % of the latest swing low",
    "pattern",
    5,
    lambda **_: 250,
)
_reg(
    "near_resistance",
    "pct:number=1.5[0..50], k:int=5[1..100]",
    B,
    _near(lambda c, k: chart.resistance(c.frame.high, k)),
    "close within pct % of the latest swing high",
    "pattern",
    5,
    lambda **_: 250,
)
_DT = "n:int=60[10..1000], tolerance:number=2.0[0.1..20]"
_reg(
    "double_top",
    _DT,
    B,
    lambda c, n, tolerance: chart.double_top(c.frame.high, c.frame.low, c.frame.close, n, tolerance),
    "two similar swing highs, confirmed by a close below the dip between them",
    "pattern",
    8,
    lambda **a: a["n"] + 20,
)
_reg(
    "double_bottom",
    _DT,
    B,
    lambda c, n, tolerance: chart.double_bottom(c.frame.high, c.frame.low, c.frame.close, n, tolerance),
    "two similar swing lows, confirmed by a close above the rally between them",
    "pattern",
    8,
    lambda **a: a["n"] + 20,
)
_GC = "fast:int=50[2..1000], slow:int=200[3..2000]"
_reg(
    "golden_cross",
    _GC,
    B,
    lambda c, fast, slow: chart.golden_cross(c.frame.close, fast, slow),
    "SMA(fast) crosses above SMA(slow)",
    "pattern",
    4,
    lambda **a: a["slow"] + 1,
)
_reg(
    "death_cross",
    _GC,
    B,
    lambda c, fast, slow: chart.death_cross(c.frame.close, fast, slow),
    "SMA(fast) crosses below SMA(slow)",
    "pattern",
    4,
    lambda **a: a["slow"] + 1,
)
_reg(
    "gap_up",
    "pct:number=0.0[0..50]",
    B,
    lambda c, pct: chart.gap_up(c.frame.low, c.frame.high, pct),
    "low above the previous high (by more than pct %)",
    "pattern",
    2,
    lambda **_: 2,
)
_reg(
    "gap_down",
    "pct:number=0.0[0..50]",
    B,
    lambda c, pct: chart.gap_down(c.frame.low, c.frame.high, pct),
    "high below the previous low (by more than pct %)",
    "pattern",
    2,
    lambda **_: 2,
)


def _daily_prior(c: Ctx, daily: Callable[[Frame], FloatArray]) -> FloatArray:
    """``daily(frame)`` as of the last completed session (never today's forming bar)."""
    f = c.frame
    if f.timeframe == "1d":
        return shift(daily(f), 1)
    day = c.panel.frame("1d")
    return np.asarray(c.align(daily(day), day))


def _session_running(f: Frame, x: FloatArray, ufunc: np.ufunc) -> FloatArray:
    if f.timeframe == "1d":
        return x
    out = np.empty_like(x)
    starts = custom.session_starts(f.session_ids)
    for a, b in zip(starts, np.append(starts[1:], x.shape[0]), strict=True):
        ufunc.accumulate(x[a:b], axis=0, out=out[a:b])
    return out


_YEAR = chart.TRADING_DAYS_PER_YEAR


def _hi52(c: Ctx) -> FloatArray:
    f = c.frame
    prior = _daily_prior(c, lambda d: ta.highest(d.high, _YEAR - 1))
    return np.fmax(prior, _session_running(f, f.high, np.fmax))


def _lo52(c: Ctx) -> FloatArray:
    f = c.frame
    prior = _daily_prior(c, lambda d: ta.lowest(d.low, _YEAR - 1))
    return np.fmin(prior, _session_running(f, f.low, np.fmin))


def _new52(high: bool) -> Callable[..., BoolArray]:
    def kernel(c: Ctx) -> BoolArray:
        f = c.frame
        if high:
            prior = _daily_prior(c, lambda d: ta.highest(d.high, _YEAR))
            today = _session_running(f, f.high, np.fmax)
            with np.errstate(invalid="ignore"):
                return np.asarray(today > prior)
        prior = _daily_prior(c, lambda d: ta.lowest(d.low, _YEAR))
        today = _session_running(f, f.low, np.fmin)
        with np.errstate(invalid="ignore"):
            return np.asarray(today < prior)

    return kernel


_LB52 = {"1d": _YEAR + 1}
_reg("high_52w", "", S, _hi52, "52-week high (250 sessions, today included)", "levels", 3, lambda **_: _LB52)
_reg("low_52w", "", S, _lo52, "52-week low (250 sessions, today included)", "levels", 3, lambda **_: _LB52)
_reg(
    "new_52w_high",
    "",
    B,
    _new52(True),
    "trading above the previous 52-week high",
    "pattern",
    3,
    lambda **_: _LB52,
)
_reg(
    "new_52w_low",
    "",
    B,
    _new52(False),
    "trading below the previous 52-week low",
    "pattern",
    3,
    lambda **_: _LB52,
)
_reg(
    "inside_bar",
    "",
    B,
    lambda c: chart.inside_bar(c.frame.high, c.frame.low),
    "high and low inside the previous bar's",
    "pattern",
    2,
    lambda **_: 2,
)
_reg(
    "nr7",
    "",
    B,
    lambda c: chart.narrow_range(c.frame.high, c.frame.low, 7),
    "narrowest range of the last 7 bars",
    "pattern",
    2,
    lambda **_: 7,
)
_reg(
    "nr",
    "n:int=7[2..100]",
    B,
    lambda c, n: chart.narrow_range(c.frame.high, c.frame.low, n),
    "narrowest range of the last n bars",
    "pattern",
    2,
    _n,
)


def _tod_lookback(**a: Any) -> int:
    """``n`` earlier sessions at this bar's time of day, and the current one."""
    return time_of_day.sessions_lookback(str(a.get("tf", "1d")), int(a["n"]))


_reg(
    "volume_spike",
    "mult:number=2.0[1..100], n:int=20[2..500]",
    B,
    lambda c, mult, n: time_of_day.volume_spike(c.frame.volume, c.frame.index_ms, c.frame.timeframe, mult, n),
    "volume above mult x its average at this time of day over the previous n sessions (daily: n bars)",
    "activity",
    3,
    _tod_lookback,
)
_reg(
    "unusual_volume",
    "z:number=3.0[0.5..20], n:int=20[5..500]",
    B,
    lambda c, z, n: time_of_day.unusual(c.frame.volume, c.frame.index_ms, c.frame.timeframe, z, n),
    "volume z-score against the same time of day in the previous n sessions (daily: n bars) at least z",
    "activity",
    4,
    _tod_lookback,
)


def _oi_change(c: Ctx) -> FloatArray:
    oi = _field("oi")(c)
    return oi - shift(oi, 1)


_reg(
    "unusual_oi",
    "z:number=3.0[0.5..20], n:int=20[5..500]",
    B,
    lambda c, z, n: time_of_day.unusual(_oi_change(c), c.frame.index_ms, c.frame.timeframe, z, n),
    "open-interest change z-score against the same time of day in the previous n sessions (daily: n bars; "
    "F&O: a stock's or index's futures OI from the exchange's F&O reports, a contract's own OI intraday)",
    "activity",
    4,
    lambda **a: _tod_lookback(**a) + 1,
)
_reg(
    "trend_strength",
    "n:int=14[2..500]",
    S,
    lambda c, n: chart.trend_strength(c.frame.high, c.frame.low, c.frame.close, n),
    "ADX signed by direction: +40 strong uptrend, -40 strong downtrend",
    "trend",
    5,
    lambda **a: 4 * a["n"],
)

NAMES: tuple[str, ...] = tuple(sorted(FUNCTIONS))
