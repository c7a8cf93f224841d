"""The UDiFF F&O bhavcopy (``BhavCopy_NSE_FO_0_0_0_YYYYMMDD_F_0000.csv.zip``, since July 2024).

The shared UDiFF layout (see ``_udiff``) with ``Sgmt`` = ``FO``: one row per futures or options contract.
``FinInstrmTp`` is STF/IDF (stock/index future) or STO/IDO (stock/index option); futures leave ``StrkPric``
and ``OptnTp`` empty. ``OpnPric/HghPric/LwPric/LastPric`` are printed 0.00 when nothing set them (no trade in
the order book; a contract can show volume from other trades with those still 0.00): they become None.
``TtlTradgVol`` is in contracts, ``OpnIntrst`` and ``ChngInOpnIntrst`` in shares, ``NewBrdLotQty`` the lot size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from mantra.market.nse import _udiff
from mantra.market.nse._daily import segment_check
from mantra.market.nse._table import (
    ColumnSpec,
    Converted,
    FieldError,
    Source,
    Table,
    amount_column,
    build_rows,
    count_column,
    date_column,
    iso_date,
    load_text,
    optional_paise_column,
    paise_column,
    signed_count_column,
    text_column,
    traded_paise_column,
)
from mantra.market.nse.types import FoBar, ParseProblem, ParseResult, ReportKind

COLUMNS = _udiff.COLUMNS
SEGMENT = "FO"
FUTURES = frozenset({"STF", "IDF"})
OPTIONS = frozenset({"STO", "IDO"})
OPTION_TYPES = frozenset({"CE", "PE"})

_FO_BAR: Callable[[tuple[object, ...]], FoBar] = partial(tuple.__new__, FoBar)


def _one_of(allowed: frozenset[str], *, empty: bool = False) -> Callable[[Sequence[str], str], Converted]:
    def convert(values: Sequence[str], column: str) -> Converted:
        out = [v.strip() or None for v in values] if empty else [v.strip() for v in values]
        errors = {
            i: FieldError(column, values[i], f"not one of {', '.join(sorted(allowed))}")
            for i, v in enumerate(out)
            if v is not None and v not in allowed
        }
        return out, errors

    return convert


def _contract_shape(bar: FoBar) -> FieldError | None:
    """A future has no strike or option type; an option has both."""
    if bar.instrument in FUTURES:
        if bar.strike_paise is not None:
            return FieldError(
                "StrkPric",
                f"{bar.strike_paise // 100}.{bar.strike_paise % 100:02d}",
                "a future has no strike",
            )
        if bar.option_type is not None:
            return FieldError("OptnTp", bar.option_type, "a future has no option type")
    else:
        if bar.strike_paise is None:
            return FieldError("StrkPric", "", "an option needs a strike")
        if bar.option_type is None:
            return FieldError("OptnTp", "", "an option needs CE or PE")
    return None


def parse_udiff_fo(source: Source, name: str | None = None) -> ParseResult[FoBar]:
    """Every contract of a UDiFF F&O bhavcopy (zip or CSV) as an ``FoBar``; unreadable rows in ``problems``."""
    text, label = load_text(source, name)
    return parse_udiff_fo_text(text, label)


def parse_udiff_fo_text(text: str, source: str) -> ParseResult[FoBar]:
    """The same, from a report's text; ``source`` names it in problems."""
    table = Table(text, source, COLUMNS)

    def dates(values: Sequence[str], column: str) -> Converted:
        return date_column(values, column, iso_date)

    specs: list[ColumnSpec] = [
        ("TckrSymb", text_column),
        ("FinInstrmTp", _one_of(FUTURES | OPTIONS)),
        ("TradDt", dates),
        ("XpryDt", dates),
        ("StrkPric", optional_paise_column),
        ("OptnTp", _one_of(OPTION_TYPES, empty=True)),
        ("OpnPric", traded_paise_column),
        ("HghPric", traded_paise_column),
        ("LwPric", traded_paise_column),
        ("ClsPric", paise_column),
        ("LastPric", traded_paise_column),
        ("PrvsClsgPric", paise_column),
        ("SttlmPric", paise_column),
        ("UndrlygPric", optional_paise_column),
        ("OpnIntrst", count_column),
        ("ChngInOpnIntrst", signed_count_column),
        ("TtlTradgVol", count_column),
        ("TtlTrfVal", amount_column),
        ("TtlNbOfTxsExctd", count_column),
        ("NewBrdLotQty", count_column),
        ("FinInstrmId", text_column),
        ("FinInstrmNm", text_column),
    ]
    problems: list[ParseProblem] = []
    rows = build_rows(
        table,
        problems,
        specs,
        _FO_BAR,
        symbol_column="TckrSymb",
        checks=[("Sgmt", segment_check(SEGMENT))],
        validate=_contract_shape,
    )
    return ParseResult(source, ReportKind.UDIFF_FO, rows, problems)
