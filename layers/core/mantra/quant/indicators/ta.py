"""Typed wrappers over TA-Lib for (time x instrument) arrays: same numbers as TA-Lib, one column at a time.

Every function takes 1-D or 2-D float arrays (time on axis 0) and returns arrays of the same shape, NaN where
the indicator has no value yet. Leading NaNs (an instrument listed later than the others) are skipped by TA-Lib.
"""

from __future__ import annotations

import numpy as np
import talib
from numpy.typing import ArrayLike

from mantra.quant.indicators._columns import FloatArray, apply


def _period(n: int, name: str = "n", low: int = 1) -> int:
    if int(n) != n or n < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {n}")
    return int(n)


# overlap studies
def sma(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.SMA, (x,), timeperiod=_period(n))


def ema(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.EMA, (x,), timeperiod=_period(n))


def wma(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.WMA, (x,), timeperiod=_period(n))


def dema(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.DEMA, (x,), timeperiod=_period(n))


def tema(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.TEMA, (x,), timeperiod=_period(n))


def kama(x: ArrayLike, n: int = 30) -> FloatArray:
    return apply(talib.KAMA, (x,), timeperiod=_period(n))


def bbands(x: ArrayLike, n: int = 20, k: float = 2.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(upper, middle, lower)"""
    return apply(talib.BBANDS, (x,), 3, timeperiod=_period(n, low=2), nbdevup=k, nbdevdn=k)


def sar(high: ArrayLike, low: ArrayLike, accel: float = 0.02, maximum: float = 0.2) -> FloatArray:
    return apply(talib.SAR, (high, low), acceleration=accel, maximum=maximum)


# momentum
def rsi(x: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.RSI, (x,), timeperiod=_period(n, low=2))


def macd(
    x: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(macd line, signal line, histogram)"""
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be shorter than slow ({slow})")
    return apply(
        talib.MACD,
        (x,),
        3,
        fastperiod=_period(fast, "fast", 2),
        slowperiod=_period(slow, "slow", 2),
        signalperiod=_period(signal, "signal"),
    )


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.ADX, (high, low, close), timeperiod=_period(n, low=2))


def plus_di(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.PLUS_DI, (high, low, close), timeperiod=_period(n))


def minus_di(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.MINUS_DI, (high, low, close), timeperiod=_period(n))


def cci(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.CCI, (high, low, close), timeperiod=_period(n, low=2))


def mfi(high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.MFI, (high, low, close, volume), timeperiod=_period(n, low=2))


def willr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.WILLR, (high, low, close), timeperiod=_period(n))


def stoch(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, k: int = 14, smooth: int = 3, d: int = 3
) -> tuple[FloatArray, FloatArray]:
    """(slow %K, slow %D)"""
    return apply(
        talib.STOCH,
        (high, low, close),
        2,
        fastk_period=_period(k, "k"),
        slowk_period=_period(smooth, "smooth"),
        slowd_period=_period(d, "d"),
    )


def roc(x: ArrayLike, n: int = 10) -> FloatArray:
    return apply(talib.ROC, (x,), timeperiod=_period(n))


def mom(x: ArrayLike, n: int = 10) -> FloatArray:
    return apply(talib.MOM, (x,), timeperiod=_period(n))


def trix(x: ArrayLike, n: int = 15) -> FloatArray:
    return apply(talib.TRIX, (x,), timeperiod=_period(n))


def aroon(high: ArrayLike, low: ArrayLike, n: int = 14) -> tuple[FloatArray, FloatArray]:
    """(aroon down, aroon up), TA-Lib's order"""
    return apply(talib.AROON, (high, low), 2, timeperiod=_period(n, low=2))


def ultosc(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    return apply(talib.ULTOSC, (high, low, close))


# volatility
def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.ATR, (high, low, close), timeperiod=_period(n))


def natr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.NATR, (high, low, close), timeperiod=_period(n))


def stddev(x: ArrayLike, n: int = 20) -> FloatArray:
    return apply(talib.STDDEV, (x,), timeperiod=_period(n, low=2), nbdev=1.0)


# volume
def obv(close: ArrayLike, volume: ArrayLike) -> FloatArray:
    return apply(talib.OBV, (close, volume))


def ad(high: ArrayLike, low: ArrayLike, close: ArrayLike, volume: ArrayLike) -> FloatArray:
    return apply(talib.AD, (high, low, close, volume))


# statistics and rolling windows
def highest(x: ArrayLike, n: int) -> FloatArray:
    """Rolling maximum over the last ``n`` bars, the current one included."""
    return apply(talib.MAX, (x,), timeperiod=_period(n, low=2)) if n > 1 else np.array(x, dtype=float)


def lowest(x: ArrayLike, n: int) -> FloatArray:
    return apply(talib.MIN, (x,), timeperiod=_period(n, low=2)) if n > 1 else np.array(x, dtype=float)


def rolling_sum(x: ArrayLike, n: int) -> FloatArray:
    return apply(talib.SUM, (x,), timeperiod=_period(n))


def linreg_slope(x: ArrayLike, n: int = 14) -> FloatArray:
    return apply(talib.LINEARREG_SLOPE, (x,), timeperiod=_period(n, low=2))
