"""Patterns: every TA-Lib candlestick is named, directions split correctly; chart patterns on built bars."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from mantra.quant.patterns import candlesticks, chart
from mantra.quant.scanner import compile_scan
from mantra.quant.scanner.evaluator import Evaluator
from scanner_helpers import bars, panel_of, random_frame


def _scan(source: str, rows) -> list[bool]:
    panel = panel_of(bars(rows))
    return Evaluator(panel).run(compile_scan(source).ir)[:, 0].tolist()


def test_every_talib_candlestick_function_has_a_human_name():
    mapped = {p.function for p in candlesticks.PATTERNS.values()}
    assert mapped == set(talib.get_function_groups()["Pattern Recognition"])
    assert len(mapped) == 61


def test_names_are_case_and_separator_insensitive():
    assert candlesticks.lookup("Bullish Engulfing") is candlesticks.lookup("bullish-engulfing")
    assert candlesticks.lookup("morning star").function == "CDLMORNINGSTAR"  # type: ignore[union-attr]
    assert candlesticks.lookup("three inside up").direction == "bullish"  # type: ignore[union-attr]


def test_two_sided_patterns_split_by_the_sign_talib_reports():
    f = random_frame(t=2000, n=3, seed=5, vol=0.03)
    raw = np.column_stack(
        [
            talib.CDLENGULFING(*(np.ascontiguousarray(a[:, j]) for a in (f.open, f.high, f.low, f.close)))
            for j in range(3)
        ]
    )
    bull = candlesticks.detect("bullish_engulfing", f.open, f.high, f.low, f.close)
    bear = candlesticks.detect("bearish_engulfing", f.open, f.high, f.low, f.close)
    anyway = candlesticks.detect("engulfing", f.open, f.high, f.low, f.close)
    np.testing.assert_array_equal(bull, raw > 0)
    np.testing.assert_array_equal(bear, raw < 0)
    np.testing.assert_array_equal(anyway, raw != 0)
    assert bull.any() and bear.any()


def test_unknown_pattern_suggests_a_name():
    with pytest.raises(KeyError, match="did you mean 'shooting_star'"):
        candlesticks.detect("shootingstar", *([np.ones(5)] * 4))


def test_breakout_is_a_close_above_the_prior_highs():
    rows = [(10, 11, 9, 10, 1)] * 5 + [(10, 12, 10, 11.5, 1), (11, 11.4, 10.5, 11, 1)]
    assert _scan("breakout(5)", rows) == [False] * 5 + [True, False]


def test_gap_up_needs_the_low_above_the_previous_high():
    rows = [(10, 11, 9, 10, 1), (11.2, 12, 11.1, 11.8, 1), (11.8, 12.5, 11.9, 12, 1)]
    assert _scan("gap_up()", rows) == [False, True, False]
    assert _scan("gap_up(pct=1)", rows) == [False, False, False]


def test_inside_bar_and_nr7():
    rows = [(10, 12 + i * 0.1, 8 - i * 0.1, 10, 1) for i in range(6)] + [(10, 11, 9.5, 10, 1)]
    assert _scan("inside_bar()", rows)[-1] is True
    assert _scan("nr7()", rows) == [False] * 6 + [True]


def test_volume_spike_compares_with_the_average_before_the_bar():
    rows = [(10, 11, 9, 10, 100)] * 20 + [(10, 11, 9, 10, 250), (10, 11, 9, 10, 150)]
    assert _scan("volume_spike(2, 20)", rows)[-2:] == [True, False]


def test_unusual_volume_uses_a_z_score():
    rng = np.random.default_rng(0)
    vols = [*(100 + rng.normal(0, 5, 30)).tolist(), 200.0]
    rows = [(10, 11, 9, 10, v) for v in vols]
    assert _scan("unusual_volume(z=3, n=20)", rows)[-1] is True
    assert not any(_scan("unusual_volume(z=3, n=20)", rows)[:-1])


def test_golden_and_death_cross():
    closes = [100 - i for i in range(30)] + [70 + 3 * i for i in range(30)]
    rows = [(c, c + 1, c - 1, c, 1) for c in closes]
    golden = _scan("golden_cross(5, 20)", rows)
    assert sum(golden) == 1 and golden.index(True) > 30
    assert not any(_scan("death_cross(5, 20)", rows)[35:])


def test_double_bottom_is_confirmed_when_price_clears_the_middle_peak():
    path = [100 - 2 * i for i in range(10)] + [80 + 2 * i for i in range(8)] + [96 - 2 * i for i in range(8)]
    path += [81 + 2 * i for i in range(12)]
    rows = [(c, c + 0.5, c - 0.5, c, 1) for c in path]
    hits = _scan("double_bottom(n=60, tolerance=2)", rows)
    assert sum(hits) == 1
    t = hits.index(True)
    assert path[t] > 96.5 >= path[t - 1]  # the close clears the middle peak's high (96 + 0.5)


def test_support_and_resistance_are_the_latest_confirmed_swings():
    f = random_frame(t=200, n=4, seed=2)
    sup = chart.support(f.low, 5)
    flags = chart.swing_lows(f.low, 5)
    t = int(np.flatnonzero(flags[:, 0])[-1])
    assert sup[t, 0] == f.low[t - 5, 0]
    assert f.low[t - 5, 0] == f.low[t - 10 : t + 1, 0].min()


def test_trend_strength_is_signed_by_direction():
    up = [(100 + i, 101 + i, 99 + i, 100.5 + i, 1) for i in range(80)]
    down = [(200 - i, 201 - i, 199 - i, 199.5 - i, 1) for i in range(80)]
    assert _scan("trend_strength(14) > 30", up)[-1] is True
    assert _scan("trend_strength(14) < -30", down)[-1] is True


def test_new_52_week_high_on_daily_bars():
    closes = [100 + np.sin(i / 10) * 5 * (1 - i / 1000) for i in range(300)] + [110]
    rows = [(c, c + 0.5, c - 0.5, c, 1) for c in closes]
    hits = _scan("new_52w_high()", rows)
    assert hits[-1] is True and not any(hits[250:-1])
