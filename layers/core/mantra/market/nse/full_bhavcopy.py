"""The capital-market "full bhavcopy with delivery" (``sec_bhavdata_full_DDMMYYYY.csv``).

Columns ``SYMBOL, SERIES, DATE1, PREV_CLOSE, OPEN_PRICE, HIGH_PRICE, LOW_PRICE, LAST_PRICE, CLOSE_PRICE,
AVG_PRICE, TTL_TRD_QNTY, TURNOVER_LACS, NO_OF_TRADES, DELIV_QTY, DELIV_PER``, separated by ", ", ``DATE1`` like
``01-Jan-2025``, turnover in lakhs of rupees, ``DELIV_QTY`` printed ``-`` where there is no delivery figure.
The T0 series' ``CLOSE_PRICE`` is the normal market's close, outside the T0 rows' own high-low range: the
parser does not ask for open/close within the range.
"""

from __future__ import annotations

from decimal import Decimal

from mantra.market.nse._daily import DailyLayout, parse_daily
from mantra.market.nse._table import Source, dmy_date, load_text
from mantra.market.nse.types import DailyBar, ParseResult, ReportKind

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

LAYOUT = DailyLayout(
    kind=ReportKind.FULL_BHAVCOPY,
    columns=COLUMNS,
    symbol="SYMBOL",
    series="SERIES",
    trade_date="DATE1",
    parse_date=dmy_date,
    open="OPEN_PRICE",
    high="HIGH_PRICE",
    low="LOW_PRICE",
    close="CLOSE_PRICE",
    prev_close="PREV_CLOSE",
    last="LAST_PRICE",
    volume="TTL_TRD_QNTY",
    turnover="TURNOVER_LACS",
    turnover_unit=RUPEES_PER_LAKH,
    trades="NO_OF_TRADES",
    delivery="DELIV_QTY",
)


def parse_full_bhavcopy(source: Source, name: str | None = None) -> ParseResult[DailyBar]:
    """Every row of a full bhavcopy as a ``DailyBar``; unreadable rows in ``problems`` (file, line, column)."""
    text, label = load_text(source, name)
    return parse_full_bhavcopy_text(text, label)


def parse_full_bhavcopy_text(text: str, source: str) -> ParseResult[DailyBar]:
    """The same, from a report's text; ``source`` names it in problems."""
    return parse_daily(text, source, LAYOUT)
