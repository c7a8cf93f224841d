"""The legacy capital-market bhavcopy (``cmDDMONYYYYbhav.csv``, published until July 2024: older history).

Columns ``SYMBOL, SERIES, OPEN, HIGH, LOW, CLOSE, LAST, PREVCLOSE, TOTTRDQTY, TOTTRDVAL, TIMESTAMP,
TOTALTRADES, ISIN`` and a trailing empty column (every line ends with a comma); ``TIMESTAMP`` like
``01-JAN-2024``, ``TOTTRDVAL`` in rupees. No delivery figure (``delivery_qty`` is None).
"""

from __future__ import annotations

from mantra.market.nse._daily import DailyLayout, parse_daily
from mantra.market.nse._table import Source, dmy_date, load_text
from mantra.market.nse.types import DailyBar, ParseResult, ReportKind

COLUMNS = (
    "SYMBOL",
    "SERIES",
    "OPEN",
    "HIGH",
    "LOW",
    "CLOSE",
    "LAST",
    "PREVCLOSE",
    "TOTTRDQTY",
    "TOTTRDVAL",
    "TIMESTAMP",
    "TOTALTRADES",
    "ISIN",
)

LAYOUT = DailyLayout(
    kind=ReportKind.LEGACY_CM,
    columns=COLUMNS,
    symbol="SYMBOL",
    series="SERIES",
    trade_date="TIMESTAMP",
    parse_date=dmy_date,
    open="OPEN",
    high="HIGH",
    low="LOW",
    close="CLOSE",
    prev_close="PREVCLOSE",
    last="LAST",
    volume="TOTTRDQTY",
    turnover="TOTTRDVAL",
    trades="TOTALTRADES",
    isin="ISIN",
)


def parse_legacy_cm(source: Source, name: str | None = None) -> ParseResult[DailyBar]:
    """Every row of a legacy ``cm...bhav.csv`` as a ``DailyBar``; unreadable rows in ``problems``."""
    text, label = load_text(source, name)
    return parse_legacy_cm_text(text, label)


def parse_legacy_cm_text(text: str, source: str) -> ParseResult[DailyBar]:
    """The same, from a report's text; ``source`` names it in problems."""
    return parse_daily(text, source, LAYOUT)
