"""Corporate-action files: the daily ``bcDDMMYYYY.csv`` and the exchange's corporate-actions history download.

- ``bcDDMMYYYY.csv`` (the daily "PR" report): ``SERIES, SYMBOL, SECURITY, RECORD_DT, BC_STRT_DT, BC_END_DT,
  EX_DT, ND_STRT_DT, ND_END_DT, PURPOSE``, dates ``YYYY-MM-DD`` (empty when none). One row per series of a
  symbol (EQ, BE, BL, IQ, T0, TL, ...), and the same action is listed on every day until its ex-date.
- The history download (nseindia.com, corporate actions, equities, CSV): ``SYMBOL, COMPANY NAME, SERIES,
  PURPOSE, FACE VALUE, EX-DATE, RECORD DATE, BC START DATE, BC END DATE``, dates ``DD-Mon-YYYY``, ``-`` where
  there is none. It carries the face value, which a rights factor needs.

Each row's ``PURPOSE`` is read by ``purpose.parse_purpose``; a purpose that cannot be read is a problem naming
the file, the line, the symbol and the text, and its row gives no action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mantra.market.nse._table import (
    FieldError,
    Source,
    Table,
    dmy_date,
    iso_date,
    load_text,
    paise,
    problem,
)
from mantra.market.nse.purpose import ActionKind, Purpose, RightsTerms, parse_purpose
from mantra.market.nse.types import ParseProblem, ParseResult, ReportKind

BC_COLUMNS = (
    "SERIES",
    "SYMBOL",
    "SECURITY",
    "RECORD_DT",
    "BC_STRT_DT",
    "BC_END_DT",
    "EX_DT",
    "ND_STRT_DT",
    "ND_END_DT",
    "PURPOSE",
)
HISTORY_COLUMNS = (
    "SYMBOL",
    "COMPANY NAME",
    "SERIES",
    "PURPOSE",
    "FACE VALUE",
    "EX-DATE",
    "RECORD DATE",
    "BC START DATE",
    "BC END DATE",
)


@dataclass(frozen=True, slots=True)
class CorporateAction:
    """One corporate action of one symbol and series, with its purpose read and where it came from."""

    symbol: str
    series: str | None
    ex_date: date | None  # None only for actions that do not move prices (a T-bill's redemption)
    purpose: Purpose
    record_date: date | None
    face_value_paise: int | None  # the history download has it; the daily bc file does not
    source: str
    line: int

    @property
    def kinds(self) -> tuple[ActionKind, ...]:
        return self.purpose.kinds

    @property
    def adjusts_prices(self) -> bool:
        return self.purpose.adjusts_prices

    @property
    def rights(self) -> RightsTerms | None:
        return self.purpose.rights

    @property
    def key(self) -> tuple[str, date | None, str]:
        """The same action listed for several series or on several days has one key."""
        return self.symbol, self.ex_date, " ".join(self.purpose.text.upper().split())


def _date_or_none(text: str, column: str) -> date | None:
    """Either spelling the exchange uses (``2025-12-17``, ``17-Dec-2025``); empty or ``-``: None."""
    t = text.strip()
    if not t or t == "-":
        return None
    if len(t) == 10 and t[4] == "-":
        return iso_date(t, column)
    return dmy_date(t, column)


def _read_actions(
    text: str,
    source: str,
    kind: ReportKind,
    columns: tuple[str, ...],
    *,
    ex_column: str,
    record_column: str,
    face_value_column: str | None,
) -> ParseResult[CorporateAction]:
    table = Table(text, source, columns)
    i = table.index
    found: list[ParseProblem] = []
    lines, fields = table.records(found)
    actions: list[CorporateAction] = []
    for line, f in zip(lines, fields, strict=True):
        symbol = f[i["SYMBOL"]].strip()
        purpose_text = f[i["PURPOSE"]].strip()
        purpose = parse_purpose(purpose_text)
        try:
            if not symbol:
                raise FieldError("SYMBOL", f[i["SYMBOL"]], "empty symbol")
            ex_date = _date_or_none(f[i[ex_column]], ex_column)
            if ex_date is None and purpose.adjusts_prices:
                raise FieldError(ex_column, f[i[ex_column]], "a price-adjusting action needs an ex-date")
            record = _date_or_none(f[i[record_column]], record_column)
            face = None
            if face_value_column is not None and f[i[face_value_column]].strip() not in ("", "-"):
                face = paise(f[i[face_value_column]].strip(), face_value_column)
        except FieldError as exc:
            found.append(problem(source, line, exc, symbol or None))
            continue
        if purpose.unparsed is not None:
            found.append(
                ParseProblem(source, line, "PURPOSE", purpose.unparsed, value=purpose_text, symbol=symbol)
            )
            continue
        series = f[i["SERIES"]].strip() or None
        actions.append(CorporateAction(symbol, series, ex_date, purpose, record, face, source, line))
    return ParseResult(source, kind, actions, found)


def parse_bc_file(source: Source, name: str | None = None) -> ParseResult[CorporateAction]:
    """Every action of a daily ``bcDDMMYYYY.csv``; unreadable rows and purposes in ``problems``."""
    text, label = load_text(source, name)
    return parse_bc_text(text, label)


def parse_bc_text(text: str, source: str) -> ParseResult[CorporateAction]:
    """The same, from the file's text; ``source`` names it in problems."""
    return _read_actions(
        text,
        source,
        ReportKind.CORPORATE_ACTIONS_BC,
        BC_COLUMNS,
        ex_column="EX_DT",
        record_column="RECORD_DT",
        face_value_column=None,
    )


def parse_actions_history(source: Source, name: str | None = None) -> ParseResult[CorporateAction]:
    """Every action of the exchange's corporate-actions history download (CSV)."""
    text, label = load_text(source, name)
    return parse_actions_history_text(text, label)


def parse_actions_history_text(text: str, source: str) -> ParseResult[CorporateAction]:
    """The same, from the file's text; ``source`` names it in problems."""
    return _read_actions(
        text,
        source,
        ReportKind.CORPORATE_ACTIONS_HISTORY,
        HISTORY_COLUMNS,
        ex_column="EX-DATE",
        record_column="RECORD DATE",
        face_value_column="FACE VALUE",
    )
