"""Type checker: names resolve with did-you-mean, arguments are bound and bounded, scans are conditions."""

from __future__ import annotations

import pytest
from mantra.quant.scanner import compile_scan
from mantra.quant.scanner.errors import ScanTypeError
from mantra.quant.scanner.types import Apply, Const


def _error(source: str) -> ScanTypeError:
    with pytest.raises(ScanTypeError) as e:
        compile_scan(source)
    return e.value


def test_unknown_function_suggests_the_nearest_name():
    e = _error("rsx(14) < 30")
    assert (e.line, e.col) == (1, 1)
    assert "unknown function 'rsx'" in str(e) and "did you mean 'rsi'?" in str(e)


def test_unknown_bare_name_suggests_a_field():
    assert "did you mean 'volume'?" in str(_error("volme > 1000"))


def test_unknown_keyword_argument_suggests_the_parameter():
    e = _error("macd(fats=10) > 0")
    assert "no parameter 'fats'" in str(e) and "did you mean 'fast'?" in str(e)


def test_unknown_candle_pattern_points_at_the_string():
    e = _error('close > 1 and pattern("bulish engulfing")')
    assert e.col == 23
    assert "did you mean 'bullish_engulfing'?" in str(e)


def test_a_scan_must_be_a_condition():
    assert "a scan must be a condition" in str(_error("sma(close, 20) * 2"))


def test_and_needs_conditions_and_points_at_the_offender():
    e = _error("close > 1 and volume")
    assert e.col == 15 and "joins conditions" in str(e)


def test_whole_number_periods_and_bounds_are_enforced():
    assert "must be a whole number, got 2.5" in str(_error("sma(close, 2.5) > 1"))
    assert "between 2 and 500, got 1" in str(_error("rsi(1) < 30"))


def test_too_many_arguments_show_the_usage():
    assert "usage: rsi(src=close, n=14)" in str(_error("rsi(close, 14, 3) < 30"))


def test_source_series_may_be_omitted_and_defaults_fill_in():
    a, b = compile_scan("rsi(14) < 30"), compile_scan("rsi(close, 14) < 30")
    assert a.ir.key == b.ir.key == compile_scan("rsi() < 30").ir.key == compile_scan("rsi < 30").ir.key


def test_constants_fold():
    compiled = compile_scan("close > 2 * 10 + 1")
    right = compiled.ir.right  # type: ignore[union-attr]
    assert isinstance(right, Const) and right.value == 21.0
    assert isinstance(compiled.ir.left, Apply)  # type: ignore[union-attr]


def test_lookback_covers_the_longest_indicator_per_timeframe():
    compiled = compile_scan("close > sma(close, 200) and [1h] rsi(14) < 30 and change_pct(1d) > 1", "15m")
    assert compiled.needs["15m"] >= 200
    assert compiled.needs["1h"] >= 14
    assert compiled.needs["1d"] >= 2
    assert compiled.timeframes == frozenset({"1h", "1d"})


def test_cost_grows_with_conditions_and_timeframes_and_counts_repeats_once():
    one = compile_scan("rsi(14) < 30").cost
    two = compile_scan("rsi(14) < 30 and close > sma(close, 50)").cost
    repeated = compile_scan("rsi(14) < 30 and rsi(14) < 30").cost
    mtf = compile_scan("[15m] rsi(14) < 30", "1d").cost
    assert two > one
    assert repeated == one + 1  # only the 'and' is new
    assert mtf >= one + 10


def test_crosses_needs_a_series_on_one_side():
    assert "needs a series" in str(_error("1 crosses above 2"))
