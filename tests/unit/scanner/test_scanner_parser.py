"""Lexer and Pratt parser: precedence, timeframes, and errors that name the line, column and expectation."""

from __future__ import annotations

import pytest
from mantra.errors import Invalid
from mantra.quant.scanner.errors import ScanSyntaxError
from mantra.quant.scanner.nodes import Call, Cross, OnTimeframe, show
from mantra.quant.scanner.parser import parse


def test_and_binds_tighter_than_or_and_arithmetic_tighter_than_comparison():
    tree = parse("a > 1 or b < 2 and c + 2 * d >= 3")
    assert show(tree) == "((a > 1) or ((b < 2) and ((c + (2 * d)) >= 3)))"


def test_not_applies_to_the_whole_comparison():
    assert show(parse("not rsi(14) > 70 and x")) == "(not (rsi(14) > 70) and x)"


def test_timeframe_prefix_applies_to_the_operand_that_follows():
    tree = parse("[15m] ema(close, 9) crosses above [15m] ema(close, 21)")
    assert isinstance(tree, Cross) and tree.direction == "above"
    assert isinstance(tree.left, OnTimeframe) and tree.left.timeframe == "15m"
    assert isinstance(tree.right, OnTimeframe) and isinstance(tree.right.operand, Call)


def test_durations_strings_and_keyword_arguments_parse():
    tree = parse("pattern('hammer') and change_pct(1d) > 2 and bb_upper(k=2.5) > close")
    assert show(tree) == "((pattern('hammer') and (change_pct(1d) > 2)) and (bb_upper(k=2.5) > close))"


def test_symbols_are_case_insensitive_and_aliases_normalise():
    assert show(parse("RSI(14) < 30 && Close > 5 || NOT x")) == "(((rsi(14) < 30) and (close > 5)) or not x)"


def test_missing_closing_parenthesis_points_at_the_end():
    with pytest.raises(ScanSyntaxError) as e:
        parse("(rsi(14) < 30")
    assert str(e.value) == "line 1, col 14: expected ')', found the end of the expression"
    assert e.value.excerpt() == "(rsi(14) < 30\n             ^"


def test_errors_on_a_later_line_report_that_line_and_column():
    with pytest.raises(ScanSyntaxError) as e:
        parse("rsi(14) < 30\nand close > * 3")
    assert (e.value.line, e.value.col) == (2, 13)
    assert "expected a value" in e.value.message


def test_syntax_errors_are_invalid_input_for_the_api():
    with pytest.raises(Invalid):
        parse("close >")


@pytest.mark.parametrize(
    ("source", "col", "fragment"),
    [
        ("a < b < c", 7, "comparisons cannot be chained"),
        ("close = 3", 7, "use '==' to test equality"),
        ("sma(close 20)", 11, "expected ',' or ')'"),
        ("close > 3)", 10, "unmatched ')'"),
        ("pattern('hammer)", 9, "unterminated string"),
        ("change_pct(3x) > 1", 12, "a duration is a whole number"),
        ("[7m] close > 1", 2, "expected a timeframe"),
        ("close crosses 3", 15, "expected 'above' or 'below'"),
        ("close > 3 $", 11, "unexpected character '$'"),
        ("", 1, "the expression is empty"),
        ("and close > 1", 1, "keyword 'and'"),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(source, col, fragment):
    with pytest.raises(ScanSyntaxError) as e:
        parse(source)
    assert e.value.col == col
    assert fragment in str(e.value)


def test_overlong_expressions_are_refused_before_parsing():
    with pytest.raises(ScanSyntaxError, match="limit is 4000"):
        parse("close > 1 and " * 400 + "close > 1")


def test_deep_nesting_is_refused_with_a_message_not_a_recursion_error():
    with pytest.raises(ScanSyntaxError, match="nests deeper"):
        parse("(" * 100 + "close" + ")" * 100 + " > 1")
