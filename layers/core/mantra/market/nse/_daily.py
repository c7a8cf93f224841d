"""One reader for the three capital-market layouts: each module names its columns in a ``DailyLayout``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from mantra.market.nse._table import (
    ColumnConverter,
    ColumnSpec,
    Converted,
    FieldError,
    Table,
    amount_column,
    build_rows,
    count_column,
    date_column,
    delivery_column,
    optional_paise_column,
    paise_column,
    text_column,
)
from mantra.market.nse.types import DailyBar, ParseProblem, ParseResult, ReportKind

# DailyBar._make without its Python frame: ~3,000 rows a day, ~360,000 for an F&O day.
DAILY_BAR: Callable[[tuple[object, ...]], DailyBar] = partial(tuple.__new__, DailyBar)


@dataclass(frozen=True, slots=True)
class DailyLayout:
    """Which column of a CM report holds which ``DailyBar`` field (None: the layout has no such column)."""

    kind: ReportKind
    columns: tuple[str, ...]  # every column the layout must have (checked by name)
    symbol: str
    series: str
    trade_date: str
    parse_date: Callable[[str, str], date]
    open: str
    high: str
    low: str
    close: str
    prev_close: str
    last: str
    volume: str
    turnover: str
    trades: str
    turnover_unit: Decimal = Decimal(1)  # rupees per unit of the turnover column
    delivery: str | None = None
    isin: str | None = None
    segment: tuple[str, str] | None = None  # (column, value) every row must carry


def _dates(parse: Callable[[str, str], date]) -> ColumnConverter:
    return lambda values, column: date_column(values, column, parse)


def _rupees(unit: Decimal) -> ColumnConverter:
    if unit == 1:
        return amount_column

    def scaled(values: Sequence[str], column: str) -> Converted:
        amounts, errors = amount_column(values, column)
        return [None if a is None else a * unit for a in amounts], errors

    return scaled


def segment_check(want: str) -> ColumnConverter:
    """Every row must belong to segment ``want`` (a UDiFF file's ``Sgmt``)."""

    def check(values: Sequence[str], column: str) -> Converted:
        return [], {
            i: FieldError(column, v, f"not a {want} segment row")
            for i, v in enumerate(values)
            if v.strip() != want
        }

    return check


def parse_daily(text: str, source: str, layout: DailyLayout) -> ParseResult[DailyBar]:
    """Every row as a ``DailyBar``; a row that cannot be read becomes a problem and the others are kept."""
    table = Table(text, source, layout.columns)
    specs: list[ColumnSpec] = [
        (layout.symbol, text_column),
        (layout.series, lambda vs, c: text_column(vs, c, required=False)),
        (layout.trade_date, _dates(layout.parse_date)),
        (layout.open, paise_column),
        (layout.high, paise_column),
        (layout.low, paise_column),
        (layout.close, paise_column),
        (layout.prev_close, paise_column),
        (layout.last, optional_paise_column),
        (layout.volume, count_column),
        (layout.turnover, _rupees(layout.turnover_unit)),
        (layout.trades, count_column),
        (layout.delivery, delivery_column),
        (layout.isin, lambda vs, c: text_column(vs, c, required=False)),
    ]
    checks = [(layout.segment[0], segment_check(layout.segment[1]))] if layout.segment else []
    problems: list[ParseProblem] = []
    rows = build_rows(table, problems, specs, DAILY_BAR, symbol_column=layout.symbol, checks=checks)
    return ParseResult(source, layout.kind, rows, problems)
