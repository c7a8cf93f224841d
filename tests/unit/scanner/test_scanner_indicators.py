"""Indicators: the typed TA-Lib API equals raw TA-Lib per column; our own indicators match reference loops."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from mantra.quant.indicators import custom, ta
from scanner_helpers import random_frame


@pytest.fixture(scope="module")
def f():
    return random_frame(t=400, n=5)


@pytest.mark.parametrize(
    ("ours", "raw"),
    [
        (lambda f: ta.sma(f.close, 20), lambda h, lo, c, v: talib.SMA(c, 20)),
        (lambda f: ta.ema(f.close, 9), lambda h, lo, c, v: talib.EMA(c, 9)),
        (lambda f: ta.rsi(f.close, 14), lambda h, lo, c, v: talib.RSI(c, 14)),
        (lambda f: ta.macd(f.close)[2], lambda h, lo, c, v: talib.MACD(c)[2]),
        (lambda f: ta.bbands(f.close, 20, 2)[0], lambda h, lo, c, v: talib.BBANDS(c, 20, 2, 2)[0]),
        (lambda f: ta.atr(f.high, f.low, f.close, 14), lambda h, lo, c, v: talib.ATR(h, lo, c, 14)),
        (lambda f: ta.adx(f.high, f.low, f.close, 14), lambda h, lo, c, v: talib.ADX(h, lo, c, 14)),
        (
            lambda f: ta.mfi(f.high, f.low, f.close, f.volume, 14),
            lambda h, lo, c, v: talib.MFI(h, lo, c, v, 14),
        ),
        (
            lambda f: ta.stoch(f.high, f.low, f.close)[1],
            lambda h, lo, c, v: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[1],
        ),
    ],
)
def test_typed_api_equals_raw_talib_column_by_column(f, ours, raw):
    got = ours(f)
    assert got.shape == f.close.shape
    for j in range(f.shape[1]):
        want = raw(*(np.ascontiguousarray(a[:, j]) for a in (f.high, f.low, f.close, f.volume)))
        np.testing.assert_array_equal(got[:, j], want)


def test_one_dimensional_input_gives_one_dimensional_output():
    x = np.arange(50, dtype=float)
    assert ta.sma(x, 5).shape == (50,)


def test_bad_periods_fail_fast():
    with pytest.raises(ValueError, match="whole number >= 2"):
        ta.rsi(np.ones(30), 1)


def test_vwap_restarts_every_session():
    h = np.array([[10.0], [12.0], [20.0], [22.0]])
    lo = h - 2
    c = h - 1
    v = np.array([[1.0], [3.0], [1.0], [1.0]])
    got = custom.vwap(h, lo, c, v, np.array([1, 1, 2, 2]))
    tp = (h + lo + c) / 3
    assert got[1, 0] == pytest.approx((tp[0, 0] * 1 + tp[1, 0] * 3) / 4)
    assert got[2, 0] == pytest.approx(tp[2, 0])  # new session: only its own bar


def test_supertrend_vector_and_scalar_paths_agree(f):
    wide = random_frame(t=300, n=12, seed=3)
    line, direction = custom.supertrend(wide.high, wide.low, wide.close, 10, 3.0)
    for j in range(3):
        l1, d1 = custom.supertrend(wide.high[:, j], wide.low[:, j], wide.close[:, j], 10, 3.0)
        np.testing.assert_allclose(line[:, j], l1, equal_nan=True)
        np.testing.assert_allclose(direction[:, j], d1, equal_nan=True)
    up = direction[-1] > 0
    assert np.all(line[-1][up] <= wide.close[-1][up] + 1e-9) or not up.any()


def test_heikin_ashi_open_matches_the_recursive_definition(f):
    ha = custom.heikin_ashi(f.open, f.high, f.low, f.close)
    hc = (f.open + f.high + f.low + f.close) / 4
    ho = np.empty_like(hc)
    ho[0] = (f.open[0] + f.close[0]) / 2
    for t in range(1, hc.shape[0]):
        ho[t] = (ho[t - 1] + hc[t - 1]) / 2
    np.testing.assert_allclose(ha.open, ho, rtol=1e-12)
    assert np.all(ha.high >= np.maximum(ha.open, ha.close) - 1e-12)


def test_pivots_use_the_previous_session_only():
    h = np.array([[110.0], [120.0], [130.0]])
    lo = np.array([[90.0], [100.0], [95.0]])
    c = np.array([[100.0], [110.0], [120.0]])
    p = custom.pivot_points(h, lo, c, np.array([0, 1, 2]))
    assert np.isnan(p.pivot[0, 0])
    assert p.pivot[1, 0] == pytest.approx(100.0)
    assert p.r1[1, 0] == pytest.approx(110.0) and p.s1[1, 0] == pytest.approx(90.0)
    assert p.pivot[2, 0] == pytest.approx(110.0)


def test_relative_strength_is_zero_when_moving_with_the_index():
    bench = np.linspace(100, 150, 60)
    close = np.column_stack([bench * 2, bench * np.linspace(1, 1.2, 60)])
    rs = custom.relative_strength(close, bench, 10)
    assert rs[-1, 0] == pytest.approx(0.0, abs=1e-9)
    assert rs[-1, 1] > 0
