"""NSE's published daily reports, read into typed rows: pure Python, no I/O beyond reading what it is given.

Capital market (one ``DailyBar`` per symbol and series and session, prices in integer paise):

- ``parse_full_bhavcopy`` — ``sec_bhavdata_full_DDMMYYYY.csv`` (with delivery quantities);
- ``parse_udiff_cm`` — ``BhavCopy_NSE_CM_0_0_0_YYYYMMDD_F_0000.csv.zip`` (UDiFF, since July 2024);
- ``parse_legacy_cm`` — ``cmDDMONYYYYbhav.csv`` (until July 2024).

F&O: ``parse_udiff_fo`` — ``BhavCopy_NSE_FO_0_0_0_YYYYMMDD_F_0000.csv.zip``, one ``FoBar`` per contract
(expiry, strike in paise, option type, OHLC, settlement and underlying price, OI and its change, lot size).

Corporate actions: ``parse_bc_file`` (daily ``bcDDMMYYYY.csv``) and ``parse_actions_history`` (the
exchange's history download) give ``CorporateAction`` values whose free-text purpose ``parse_purpose`` reads
into exact factors (``fractions.Fraction``); ``adjust(rows, actions)`` applies them on read.

``parse_report`` / ``detect_kind`` take any of these, recognised from the header, never the file name.

Every parser returns a ``ParseResult``: ``rows`` and ``problems``. A row that cannot be read (``-`` or text
where a number belongs, a short line, a purpose not understood) is a ``ParseProblem`` naming the file, line and
column, and the rest of the file is kept. A file that cannot be read at all (a required column missing or
renamed, a broken zip, an unknown layout) raises ``ReportError`` with the same details in its message.
"""

from mantra.market.nse.adjust import Adjusted, Unresolved, adjust, unique_actions
from mantra.market.nse.corporate_actions import (
    CorporateAction,
    parse_actions_history,
    parse_bc_file,
)
from mantra.market.nse.full_bhavcopy import parse_full_bhavcopy
from mantra.market.nse.legacy_cm import parse_legacy_cm
from mantra.market.nse.purpose import ActionKind, Purpose, RightsTerms, parse_purpose
from mantra.market.nse.reports import detect_kind, parse_report
from mantra.market.nse.types import DailyBar, FoBar, ParseProblem, ParseResult, ReportError, ReportKind
from mantra.market.nse.udiff_cm import parse_udiff_cm
from mantra.market.nse.udiff_fo import parse_udiff_fo

__all__ = [
    "ActionKind",
    "Adjusted",
    "CorporateAction",
    "DailyBar",
    "FoBar",
    "ParseProblem",
    "ParseResult",
    "Purpose",
    "ReportError",
    "ReportKind",
    "RightsTerms",
    "Unresolved",
    "adjust",
    "detect_kind",
    "parse_actions_history",
    "parse_bc_file",
    "parse_full_bhavcopy",
    "parse_legacy_cm",
    "parse_purpose",
    "parse_report",
    "parse_udiff_cm",
    "parse_udiff_fo",
    "unique_actions",
]
