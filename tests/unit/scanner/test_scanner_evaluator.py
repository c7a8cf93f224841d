"""Evaluator: vectorised results equal direct TA-Lib/numpy computation; crossings; timeframes without look-ahead."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pytest
import talib
from mantra.quant.scanner import Frame, Panel, compile_scan, run_compiled, scan
from mantra.quant.scanner.evaluator import Evaluator
from mantra.quant.scanner.frame import align, resample
from mantra.quant.scanner.functions import FUNCTIONS
from scanner_helpers import bars, ist_ms, panel_of, random_frame


def _mask(source: str, panel: Panel, tf: str | None = None) -> np.ndarray:
    return Evaluator(panel).run(compile_scan(source, tf or panel.base).ir, tf or panel.base)


def test_three_condition_scan_equals_direct_talib_on_every_bar():
    f = random_frame(t=400, n=8)
    got = _mask("rsi(14) < 45 and close > sma(close, 50) and volume > 1.2 * sma(volume, 20)", panel_of(f))
    for j in range(8):
        c, v = np.ascontiguousarray(f.close[:, j]), np.ascontiguousarray(f.volume[:, j])
        with np.errstate(invalid="ignore"):
            want = (talib.RSI(c, 14) < 45) & (c > talib.SMA(c, 50)) & (v > 1.2 * talib.SMA(v, 20))
        np.testing.assert_array_equal(got[:, j], want)
    assert got.any()


def test_crosses_above_fires_only_on_the_bar_of_the_cross():
    rows = [(10, 11, 9, c, 100) for c in (10, 9, 8, 12, 13, 9, 14)]
    mask = _mask("close crosses above 10", panel_of(bars(rows)))[:, 0]
    assert mask.tolist() == [False, False, False, True, False, False, True]
    below = _mask("close crosses below 10", panel_of(bars(rows)))[:, 0]
    assert below.tolist() == [False, True, False, False, False, True, False]


def test_missing_history_never_matches():
    f = random_frame(t=60, n=3)
    assert not _mask("close > sma(close, 200) or close < sma(close, 200)", panel_of(f)).any()


def test_identical_subexpressions_are_computed_once(monkeypatch):
    calls = []
    fn = FUNCTIONS["sma"]
    original = fn.kernel

    def counting(*a):
        calls.append(a[2])
        return original(*a)

    monkeypatch.setitem(FUNCTIONS, "sma", dataclasses.replace(fn, kernel=counting))
    _mask("volume > 2 * sma(volume, 20) and volume < 5 * sma(volume, 20)", panel_of(random_frame()))
    assert calls == [20]


def _intraday(days: int = 5, n: int = 3, tf: str = "15m", seed: int = 1) -> Frame:
    width = {"5m": 5, "15m": 15}[tf]
    per_day = 375 // width
    idx = np.concatenate(
        [
            ist_ms(2026, 11, 16 + d, 9, 15) + np.arange(per_day, dtype=np.int64) * width * 60_000
            for d in range(days)
        ]
    )
    return random_frame(t=len(idx), n=n, tf=tf, index=idx, seed=seed, vol=0.003)


def test_resampling_15m_to_1h_follows_the_session_anchored_buckets():
    f = _intraday()
    hourly = resample(f, "1h")
    assert hourly.index_ms[0] == ist_ms(2026, 11, 16, 9, 15)
    assert hourly.index_ms[1] == ist_ms(2026, 11, 16, 10, 15)
    np.testing.assert_allclose(hourly.high[0], f.high[:4].max(axis=0))
    np.testing.assert_allclose(hourly.close[0], f.close[3])
    np.testing.assert_allclose(hourly.volume[0], f.volume[:4].sum(axis=0))
    assert hourly.shape[0] == 5 * 7  # 09:15..15:15, the last hour is 15 minutes long


def test_higher_timeframe_values_reach_a_bar_only_after_they_complete():
    f = _intraday()
    panel = Panel(("A", "B", "C"), {"15m": f}, "15m")
    hourly = panel.frame("1h")
    aligned = align(hourly.close, hourly, f)
    # 09:15-10:00 bars: no hourly bar has finished (09:15-10:15 completes with the 10:00 bar)
    assert np.isnan(aligned[:3]).all()
    np.testing.assert_allclose(aligned[3], hourly.close[0])  # 10:00-10:15 closes the first hour
    np.testing.assert_allclose(aligned[4], hourly.close[0])


def test_multi_timeframe_expression_equals_computing_on_the_resampled_frame():
    f = _intraday(days=12)
    panel = Panel(("A", "B", "C"), {"15m": f}, "15m")
    got = _mask("[1h] ema(close, 9) > [1h] ema(close, 21)", panel)
    hourly = resample(f, "1h")
    direct = np.column_stack(
        [
            talib.EMA(np.ascontiguousarray(hourly.close[:, j]), 9)
            > talib.EMA(np.ascontiguousarray(hourly.close[:, j]), 21)
            for j in range(3)
        ]
    )
    np.testing.assert_array_equal(got, align(direct, hourly, f))


def test_change_pct_1d_on_intraday_bars_is_against_the_previous_sessions_close():
    f = _intraday(days=3)
    panel = Panel(("A", "B", "C"), {"15m": f}, "15m")
    ev = Evaluator(panel)
    compiled = compile_scan("change_pct(1d) > -1000", "15m")
    ev.run(compiled.ir, "15m")
    change = next(v for (tf, k), v in ev.cache.items() if k.startswith("change_pct"))
    prev_close = f.close[24]  # the last 15m bar of day one
    np.testing.assert_allclose(change[30], (f.close[30] / prev_close - 1) * 100)
    assert np.isnan(change[10]).all()  # day one has no previous session


def test_outcome_reports_exact_prices_and_changes_for_matches():
    rows = [(100, 101, 99, 100.0, 10), (100, 103, 100, 102.35, 25)]
    outcome = scan("close > 101", panel_of(bars(rows), ("TCS",)))
    assert [m.symbol for m in outcome.matches] == ["TCS"]
    m = outcome.matches[0]
    assert m.close_paise == 10235 and m.change_pct == Decimal("2.35") and m.volume == 25


@pytest.mark.parametrize("name", sorted(n for n, fn in FUNCTIONS.items() if n not in ("rs", "rs_ratio")))
def test_no_function_looks_ahead(name):
    # Given a panel and the same panel cut at bar t, every function's value at t is the same on both
    f = random_frame(t=320, n=9, seed=11)
    fn = FUNCTIONS[name]
    if fn.returns.value == "condition":
        source = f"{name}()" if name not in ("within", "count", "bars_since", "pattern") else None
    else:
        source = f"{name}() > -999999999" if name not in ("prev", "abs", "max", "min") else None
    if name == "pattern":
        source = 'pattern("engulfing")'
    if name in ("within", "count", "bars_since"):
        source = {"within": "within(close > open, 3)", "count": "count(close > open, 3) >= 2"}.get(
            name, "bars_since(close > open) < 3"
        )
    if name in ("prev", "abs", "max", "min"):
        source = {"prev": "prev(close, 2) > 100", "abs": "abs(change(close)) > 1"}.get(
            name, f"{name}(close, open) > 100"
        )
    assert source is not None
    full = _mask(source, panel_of(f))
    for t in (150, 260, 319):
        cut = Frame(
            "1d",
            f.index_ms[: t + 1],
            f.open[: t + 1],
            f.high[: t + 1],
            f.low[: t + 1],
            f.close[: t + 1],
            f.volume[: t + 1],
        )
        np.testing.assert_array_equal(_mask(source, panel_of(cut))[-1], full[t], err_msg=f"{source} at {t}")


def test_run_compiled_uses_the_compiled_timeframe():
    f = _intraday(days=3)
    panel = Panel(("A", "B", "C"), {"15m": f}, "15m")
    outcome = run_compiled(compile_scan("close > 0", "1h"), panel)
    assert outcome.mask.shape == (21, 3) and len(outcome.matches) == 3
