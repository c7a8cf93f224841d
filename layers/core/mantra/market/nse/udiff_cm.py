"""The UDiFF capital-market bhavcopy (``BhavCopy_NSE_CM_0_0_0_YYYYMMDD_F_0000.csv.zip``, since July 2024).

The shared UDiFF layout (see ``_udiff``) with ``Sgmt`` = ``CM``: one row per security and series (``SctySrs``),
prices in rupees with 2 decimals, ``TtlTradgVol`` in shares, ``TtlTrfVal`` in rupees, ``TtlNbOfTxsExctd`` the
number of trades. There is no delivery figure in this layout (``delivery_qty`` is None).
"""

from __future__ import annotations

from mantra.market.nse import _udiff
from mantra.market.nse._daily import DailyLayout, parse_daily
from mantra.market.nse._table import Source, iso_date, load_text
from mantra.market.nse.types import DailyBar, ParseResult, ReportKind

COLUMNS = _udiff.COLUMNS
SEGMENT = "CM"

LAYOUT = DailyLayout(
    kind=ReportKind.UDIFF_CM,
    columns=COLUMNS,
    symbol="TckrSymb",
    series="SctySrs",
    trade_date="TradDt",
    parse_date=iso_date,
    open="OpnPric",
    high="HghPric",
    low="LwPric",
    close="ClsPric",
    prev_close="PrvsClsgPric",
    last="LastPric",
    volume="TtlTradgVol",
    turnover="TtlTrfVal",
    trades="TtlNbOfTxsExctd",
    isin="ISIN",
    segment=("Sgmt", SEGMENT),
)


def parse_udiff_cm(source: Source, name: str | None = None) -> ParseResult[DailyBar]:
    """Every row of a UDiFF CM bhavcopy (zip or CSV) as a ``DailyBar``; unreadable rows in ``problems``."""
    text, label = load_text(source, name)
    return parse_udiff_cm_text(text, label)


def parse_udiff_cm_text(text: str, source: str) -> ParseResult[DailyBar]:
    """The same, from a report's text; ``source`` names it in problems."""
    return parse_daily(text, source, LAYOUT)
