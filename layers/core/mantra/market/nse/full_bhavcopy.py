"""The capital-market "full bhavcopy with delivery" (``sec_bhavdata_full_DDMMYYYY.csv``).

Columns ``SYMBOL, SERIES, DATE1, PREV_CLOSE, OPEN_PRICE, HIGH_PRICE, LOW_PRICE, LAST_PRICE, CLOSE_PRICE,
AVG_PRICE, TTL_TRD_QNTY, TURNOVER_LACS, NO_OF_TRADES, DELIV_QTY, DELIV_PER``, separated by ", ", ``DATE1`` like
``01-Jan-2025``, turnover in lakhs of rupees, ``DELIV_QTY`` printed ``-`` where there is no delivery figure.
The T0 series' ``CLOSE_PRICE`` is the normal market's close, outside the T0 rows' own high-low range: the
parser does not ask for open/close within the range.
"""

from __future__ import annotations

from decimal import Decimal

from mantra.market.nse._table import (
    DateCache,
    FieldError,
    Source,
    Table,
    amount,
    count,
    dmy_date,
    load_text,
    optional_count,
    paise,
    problem,
)
from mantra.market.nse.types import DailyBar, ParseProblem, ParseResult, ReportKind

COLUMNS = (
    "SYMBOL",
    "SERIES",
    "DATE1",
    "PREV_CLOSE",
    "OPEN_PRICE",
    "HIGH_PRICE",
    "LOW_PRICE",
    "LAST_PRICE",
    "CLOSE_PRICE",
    "AVG_PRICE",
    "TTL_TRD_QNTY",
    "TURNOVER_LACS",
    "NO_OF_TRADES",
    "DELIV_QTY",
    "DELIV_PER",
)
RUPEES_PER_LAKH = Decimal(100_000)


def parse_full_bhavcopy(source: Source, name: str | None = None) -> ParseResult[DailyBar]:
    """Every row of a full bhavcopy as a ``DailyBar``; unreadable rows in ``problems`` (file, line, column)."""
    text, label = load_text(source, name)
    return parse_full_bhavcopy_text(text, label)


def parse_full_bhavcopy_text(text: str, source: str) -> ParseResult[DailyBar]:
    table = Table(text, source, COLUMNS)
    i = table.index
    c_sym, c_ser, c_date = i["SYMBOL"], i["SERIES"], i["DATE1"]
    c_prev, c_open, c_high, c_low = i["PREV_CLOSE"], i["OPEN_PRICE"], i["HIGH_PRICE"], i["LOW_PRICE"]
    c_last, c_close = i["LAST_PRICE"], i["CLOSE_PRICE"]
    c_qty, c_turn, c_trades, c_deliv = i["TTL_TRD_QNTY"], i["TURNOVER_LACS"], i["NO_OF_TRADES"], i["DELIV_QTY"]
    day = DateCache(dmy_date)
    rows: list[DailyBar] = []
    problems: list[ParseProblem] = []
    for line, f in table.rows(problems):
        symbol = f[c_sym].strip()
        try:
            if not symbol:
                raise FieldError("SYMBOL", f[c_sym], "empty symbol")
            rows.append(
                DailyBar(
                    symbol,
                    f[c_ser].strip(),
                    day(f[c_date], "DATE1"),
                    paise(f[c_open], "OPEN_PRICE"),
                    paise(f[c_high], "HIGH_PRICE"),
                    paise(f[c_low], "LOW_PRICE"),
                    paise(f[c_close], "CLOSE_PRICE"),
                    paise(f[c_prev], "PREV_CLOSE"),
                    paise(f[c_last], "LAST_PRICE"),
                    count(f[c_qty], "TTL_TRD_QNTY"),
                    amount(f[c_turn], "TURNOVER_LACS") * RUPEES_PER_LAKH,
                    count(f[c_trades], "NO_OF_TRADES"),
                    optional_count(f[c_deliv], "DELIV_QTY", dash=True),
                    None,
                )
            )
        except FieldError as exc:
            problems.append(problem(source, line, exc, symbol or None))
    return ParseResult(source, ReportKind.FULL_BHAVCOPY, rows, problems)
