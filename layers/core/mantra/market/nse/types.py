"""The common result types of every NSE report parser.

Prices are integer paise, quantities whole shares (or contracts where named), turnover exact ``Decimal`` rupees,
dates the exchange's own (IST) session dates. Rows are ``NamedTuple`` value types: a full-bhavcopy day is about
3,000 of them and building them must cost next to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar


class ReportKind(StrEnum):
    """What a file is, recognised from its header columns (and, for UDiFF, its segment), never its name."""

    FULL_BHAVCOPY = "full_bhavcopy"  # sec_bhavdata_full_DDMMYYYY.csv
    UDIFF_CM = "udiff_cm"  # BhavCopy_NSE_CM_0_0_0_YYYYMMDD_F_0000.csv.zip
    LEGACY_CM = "legacy_cm"  # cmDDMONYYYYbhav.csv
    UDIFF_FO = "udiff_fo"  # BhavCopy_NSE_FO_0_0_0_YYYYMMDD_F_0000.csv.zip
    CORPORATE_ACTIONS_BC = "corporate_actions_bc"  # bcDDMMYYYY.csv from the daily PR report
    CORPORATE_ACTIONS_HISTORY = "corporate_actions_history"  # the exchange's corporate-actions download


class DailyBar(NamedTuple):
    """One security's session in the capital market: one row of a CM bhavcopy, any of the three layouts."""

    symbol: str
    series: str
    trade_date: date
    open_paise: int
    high_paise: int
    low_paise: int
    close_paise: int
    prev_close_paise: int
    last_paise: int | None
    volume: int  # shares traded
    turnover: Decimal  # rupees traded, exact
    trades: int | None  # number of trades (absent from no layout today, kept optional)
    delivery_qty: int | None  # shares delivered; None where the report prints "-" or has no such column
    isin: str | None  # UDiFF and legacy layouts carry it, the full bhavcopy does not


class FoBar(NamedTuple):
    """One futures or options contract's session from the UDiFF F&O bhavcopy.

    ``open/high/low/last`` are None when the contract did not trade (the report prints 0.00 there); the close
    and the settlement price are always present. ``volume`` is in contracts (``TtlTradgVol``), open interest
    and its change in shares (multiples of the lot size), as the exchange reports them.
    """

    symbol: str
    instrument: str  # STF stock future, IDF index future, STO stock option, IDO index option
    trade_date: date
    expiry: date
    strike_paise: int | None  # None for futures
    option_type: str | None  # "CE" / "PE", None for futures
    open_paise: int | None
    high_paise: int | None
    low_paise: int | None
    close_paise: int
    last_paise: int | None
    prev_close_paise: int
    settlement_paise: int
    underlying_paise: int | None
    open_interest: int
    change_in_oi: int
    volume: int  # contracts
    turnover: Decimal  # rupees (for options the exchange's notional value)
    trades: int
    lot_size: int
    instrument_id: str  # FinInstrmId, the exchange's contract token
    name: str  # FinInstrmNm, e.g. ABCAPITAL25FEB210CE

    @property
    def is_future(self) -> bool:
        return self.option_type is None


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One row (or one value) that could not be read, and exactly where: file, line (1-based), column."""

    source: str
    line: int
    column: str | None
    message: str
    value: str | None = None
    symbol: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        if self.column:
            where += f" column {self.column}"
        what = f" ({self.symbol})" if self.symbol else ""
        shown = f": {self.value!r}" if self.value is not None else ""
        return f"{where}{what}: {self.message}{shown}"


RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class ParseResult(Generic[RowT]):
    """What one file gave: the rows read and the problems met. One bad row never loses the others."""

    source: str
    kind: ReportKind
    rows: list[RowT] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)


class ReportError(ValueError):
    """A file that cannot be read at all (not a known layout, a column missing or renamed, a broken zip).

    The message names the file, the line and the column; ``str()`` is fit to print to a user as is.
    """

    def __init__(self, source: str, message: str, *, line: int | None = None, column: str | None = None):
        self.source = source
        self.line = line
        self.column = column
        self.reason = message
        where = source if line is None else f"{source}:{line}"
        if column:
            where += f" column {column}"
        super().__init__(f"{where}: {message}")
