"""NSE daily-report parsers on the real files as published, and on broken copies of them.

The expected values are read from the same files by an independent route (``csv.DictReader`` and ``Decimal``,
see ``nse_builders``), never typed in. The UDiFF CM and legacy CM files have no published sample here: they are
written by the test in their exact layouts from real full-bhavcopy rows, then parsed back.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from mantra.market.nse import (
    DailyBar,
    ReportError,
    ReportKind,
    detect_kind,
    parse_full_bhavcopy,
    parse_legacy_cm,
    parse_report,
    parse_udiff_cm,
    parse_udiff_fo,
)
from nse_builders import (
    REAL_ISINS,
    RawRow,
    equity_files,
    fo_files,
    legacy_cm_csv,
    legacy_cm_name,
    raw_rows,
    udiff_cm_csv,
    udiff_cm_zip,
    zipped,
)


def _paise(text: str) -> int:
    value = Decimal(text) * 100
    assert value == value.to_integral_value()
    return int(value)


def _expected_bar(r: RawRow) -> DailyBar:
    f = r.fields
    return DailyBar(
        symbol=f["SYMBOL"],
        series=f["SERIES"],
        trade_date=datetime.strptime(f["DATE1"], "%d-%b-%Y").date(),
        open_paise=_paise(f["OPEN_PRICE"]),
        high_paise=_paise(f["HIGH_PRICE"]),
        low_paise=_paise(f["LOW_PRICE"]),
        close_paise=_paise(f["CLOSE_PRICE"]),
        prev_close_paise=_paise(f["PREV_CLOSE"]),
        last_paise=_paise(f["LAST_PRICE"]),
        volume=int(f["TTL_TRD_QNTY"]),
        turnover=Decimal(f["TURNOVER_LACS"]) * 100_000,
        trades=int(f["NO_OF_TRADES"]),
        delivery_qty=None if f["DELIV_QTY"] == "-" else int(f["DELIV_QTY"]),
        isin=None,
    )


@pytest.fixture(scope="module")
def first_day() -> tuple[Path, list[RawRow]]:
    path = equity_files()[0]
    return path, raw_rows(path)


# --- full bhavcopy ----------------------------------------------------------------------------------------------


def test_every_full_bhavcopy_sample_parses_every_row_and_nothing_else() -> None:
    files = equity_files()
    assert len(files) == 80
    for path in files:
        result = parse_full_bhavcopy(path)
        raw = raw_rows(path)
        assert result.problems == [], path
        assert result.kind is ReportKind.FULL_BHAVCOPY
        assert [(b.symbol, b.series) for b in result.rows] == [
            (r.fields["SYMBOL"], r.fields["SERIES"]) for r in raw
        ]
        assert len({b.trade_date for b in result.rows}) == 1


@pytest.mark.parametrize("index", [0, 23, 47, 79])
def test_full_bhavcopy_values_match_the_file_field_by_field(index: int) -> None:
    path = equity_files()[index]
    raw = raw_rows(path)
    assert parse_full_bhavcopy(path).rows == [_expected_bar(r) for r in raw]


def test_dash_delivery_is_none_and_the_rest_of_those_rows_is_kept(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, raw = first_day
    dashed = {(r.fields["SYMBOL"], r.fields["SERIES"]) for r in raw if r.fields["DELIV_QTY"] == "-"}
    assert dashed, "the sample has rows with '-' delivery"
    rows = parse_full_bhavcopy(path).rows
    assert {(b.symbol, b.series) for b in rows if b.delivery_qty is None} == dashed
    assert all(b.volume >= 0 and b.close_paise > 0 for b in rows if (b.symbol, b.series) in dashed)


def test_prices_are_integer_paise_and_turnover_exact_rupees(first_day: tuple[Path, list[RawRow]]) -> None:
    path, _ = first_day
    for bar in parse_full_bhavcopy(path).rows:
        for price in (bar.open_paise, bar.high_paise, bar.low_paise, bar.close_paise, bar.prev_close_paise):
            assert type(price) is int
        assert isinstance(bar.turnover, Decimal)


def _text(path: Path) -> str:
    return path.read_text()


def test_a_truncated_full_bhavcopy_keeps_every_complete_row_and_names_the_cut_line(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, raw = first_day
    text = _text(path)
    cut = text[: len(text) - 40]  # in the middle of the last row
    result = parse_full_bhavcopy(cut.encode(), name=path.name)
    assert len(result.rows) == len(raw) - 1
    (p,) = result.problems
    assert p.source == path.name and p.line == raw[-1].line and p.symbol == raw[-1].fields["SYMBOL"]
    assert "truncated" in p.message


def test_a_file_cut_at_a_field_boundary_is_still_reported_as_cut(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, raw = first_day
    text = _text(path)
    last_line_start = text.rstrip("\n").rfind("\n") + 1
    last = text[last_line_start:].rstrip("\n")
    # drop the newline only: every field is there, but a published report always ends with one
    result = parse_full_bhavcopy((text[:last_line_start] + last).encode(), name="cut.csv")
    assert len(result.rows) == len(raw) - 1
    assert [p.line for p in result.problems] == [raw[-1].line]


def test_a_renamed_column_is_an_error_naming_file_line_and_column(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, _ = first_day
    text = _text(path).replace("CLOSE_PRICE", "CLOSE_PRC", 1)
    with pytest.raises(ReportError) as caught:
        parse_full_bhavcopy(text.encode(), name=path.name)
    err = caught.value
    assert (err.source, err.line, err.column) == (path.name, 1, "CLOSE_PRICE")
    assert "CLOSE_PRC" in str(err) and path.name in str(err)


def test_a_missing_column_is_an_error_naming_it(first_day: tuple[Path, list[RawRow]]) -> None:
    path, _ = first_day
    lines = _text(path).splitlines()
    dropped = "\n".join(", ".join(line.split(", ")[:-1]) for line in lines) + "\n"  # no DELIV_PER
    with pytest.raises(ReportError) as caught:
        parse_full_bhavcopy(dropped.encode(), name="x.csv")
    assert caught.value.column == "DELIV_PER"


@pytest.mark.parametrize(
    ("column", "bad"),
    [("CLOSE_PRICE", "-"), ("TTL_TRD_QNTY", "abc"), ("OPEN_PRICE", "12.345"), ("DATE1", "31-Feb-2025")],
)
def test_one_bad_value_loses_that_row_only_and_names_line_and_column(
    first_day: tuple[Path, list[RawRow]], column: str, bad: str
) -> None:
    path, raw = first_day
    victim = raw[len(raw) // 2]
    lines = _text(path).split("\n")
    header = [h.strip() for h in lines[0].split(",")]
    fields = lines[victim.line - 1].split(", ")
    fields[header.index(column)] = bad
    lines[victim.line - 1] = ", ".join(fields)
    result = parse_full_bhavcopy("\n".join(lines).encode(), name=path.name)
    (p,) = result.problems
    assert (p.line, p.column, p.value, p.symbol) == (victim.line, column, bad, victim.fields["SYMBOL"])
    assert f"{path.name}:{victim.line}" in str(p) and column in str(p)
    kept = {(b.symbol, b.series) for b in result.rows}
    assert len(result.rows) == len(raw) - 1
    assert (victim.fields["SYMBOL"], victim.fields["SERIES"]) not in kept


def test_a_short_line_is_reported_and_its_neighbours_kept(first_day: tuple[Path, list[RawRow]]) -> None:
    path, raw = first_day
    victim = raw[10]
    lines = _text(path).split("\n")
    lines[victim.line - 1] = ", ".join(lines[victim.line - 1].split(", ")[:5])
    result = parse_full_bhavcopy("\n".join(lines).encode(), name="short.csv")
    assert [p.line for p in result.problems] == [victim.line]
    assert "fields" in result.problems[0].message
    assert len(result.rows) == len(raw) - 1


def test_a_header_only_file_has_no_rows_and_an_empty_file_is_an_error(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, _ = first_day
    header = _text(path).split("\n")[0] + "\n"
    assert parse_full_bhavcopy(header.encode(), name="h.csv").rows == []
    with pytest.raises(ReportError, match=r"e\.csv:1: empty file"):
        parse_full_bhavcopy(b"", name="e.csv")


def test_an_unreadable_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"missing\.csv"):
        parse_full_bhavcopy(tmp_path / "missing.csv")


# --- UDiFF CM (built from real rows) -------------------------------------------------------------------------


def test_udiff_cm_built_from_real_rows_reads_back_the_same_sessions(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    _, raw = first_day
    name, data = udiff_cm_zip(raw)
    result = parse_udiff_cm(data, name=name)
    assert result.problems == [] and result.kind is ReportKind.UDIFF_CM
    expected = [
        _expected_bar(r)._replace(delivery_qty=None, isin=REAL_ISINS.get(r.fields["SYMBOL"])) for r in raw
    ]
    assert result.rows == expected
    assert result.source == f"{name}!{name.removesuffix('.zip')}"


def test_udiff_cm_bad_row_and_foreign_segment_are_reported_alone(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    _, raw = first_day
    rows = list(csv.reader(io.StringIO(udiff_cm_csv(raw))))
    header = rows[0]
    rows[5][header.index("ClsPric")] = "-"
    rows[9][header.index("Sgmt")] = "FO"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    result = parse_udiff_cm(zipped("cm.csv", out.getvalue()), name="cm.zip")
    assert [(p.line, p.column) for p in result.problems] == [(6, "ClsPric"), (10, "Sgmt")]
    assert len(result.rows) == len(raw) - 2


def test_a_truncated_zip_is_an_error_naming_the_file(first_day: tuple[Path, list[RawRow]]) -> None:
    _, raw = first_day
    name, data = udiff_cm_zip(raw)
    with pytest.raises(ReportError, match=rf"{name}: broken or truncated zip"):
        parse_udiff_cm(data[: len(data) // 2], name=name)


# --- legacy CM (built from real rows) ------------------------------------------------------------------------


def test_legacy_cm_built_from_real_rows_reads_back_the_same_sessions(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    _, raw = first_day
    text = legacy_cm_csv(raw)
    assert text.split("\n")[1].endswith(",") and "-JAN-" in text.split("\n")[1]
    result = parse_legacy_cm(text.encode(), name=legacy_cm_name(raw))
    assert result.problems == [] and result.kind is ReportKind.LEGACY_CM
    assert result.rows == [
        _expected_bar(r)._replace(delivery_qty=None, isin=REAL_ISINS.get(r.fields["SYMBOL"])) for r in raw
    ]


def test_legacy_cm_renamed_column_and_bad_timestamp(first_day: tuple[Path, list[RawRow]]) -> None:
    _, raw = first_day
    text = legacy_cm_csv(raw)
    with pytest.raises(ReportError) as caught:
        parse_legacy_cm(text.replace("TOTTRDQTY", "TOTTRDQTY2", 1).encode(), name="cm.csv")
    assert caught.value.column == "TOTTRDQTY"
    lines = text.split("\n")
    lines[3] = lines[3].replace("-JAN-", "-JNA-")
    result = parse_legacy_cm("\n".join(lines).encode(), name="cm.csv")
    assert [(p.line, p.column) for p in result.problems] == [(4, "TIMESTAMP")]


# --- UDiFF F&O (the real samples) ----------------------------------------------------------------------------


def _raw_fo(path: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.namelist()
        return list(csv.DictReader(io.StringIO(archive.read(member).decode())))


@pytest.fixture(scope="module")
def fo_day() -> tuple[Path, list[dict[str, str]]]:
    path = fo_files()[0]
    return path, _raw_fo(path)


def test_every_fo_sample_parses_every_contract() -> None:
    files = fo_files()
    assert len(files) == 10
    for path in files:
        result = parse_udiff_fo(path)
        assert result.problems == [], path
        with zipfile.ZipFile(path) as archive:
            (member,) = archive.namelist()
            lines = archive.read(member).decode().splitlines()[1:]
        assert Counter(b.instrument for b in result.rows) == Counter(line.split(",")[4] for line in lines)


def test_fo_values_match_the_file_field_by_field(fo_day: tuple[Path, list[dict[str, str]]]) -> None:
    path, raw = fo_day
    rows = parse_udiff_fo(path).rows
    assert len(rows) == len(raw)
    for bar, r in zip(rows, raw, strict=True):
        traded = [
            None if r[k] == "0.00" else _paise(r[k]) for k in ("OpnPric", "HghPric", "LwPric", "LastPric")
        ]
        assert [bar.open_paise, bar.high_paise, bar.low_paise, bar.last_paise] == traded
        assert (
            bar.symbol == r["TckrSymb"]
            and bar.name == r["FinInstrmNm"]
            and bar.instrument_id == r["FinInstrmId"]
        )
        assert bar.expiry == date.fromisoformat(r["XpryDt"]) and bar.trade_date == date.fromisoformat(
            r["TradDt"]
        )
        assert bar.strike_paise == (_paise(r["StrkPric"]) if r["StrkPric"] else None)
        assert bar.option_type == (r["OptnTp"] or None)
        assert (bar.close_paise, bar.settlement_paise) == (_paise(r["ClsPric"]), _paise(r["SttlmPric"]))
        assert bar.underlying_paise == _paise(r["UndrlygPric"])
        assert (bar.open_interest, bar.change_in_oi) == (int(r["OpnIntrst"]), int(r["ChngInOpnIntrst"]))
        assert (bar.volume, bar.lot_size, bar.trades) == (
            int(r["TtlTradgVol"]),
            int(r["NewBrdLotQty"]),
            int(r["TtlNbOfTxsExctd"]),
        )
        assert bar.turnover == Decimal(r["TtlTrfVal"])


def test_fo_futures_have_no_strike_and_options_have_both(fo_day: tuple[Path, list[dict[str, str]]]) -> None:
    path, _ = fo_day
    rows = parse_udiff_fo(path).rows
    futures = [b for b in rows if b.is_future]
    options = [b for b in rows if not b.is_future]
    assert futures and options
    assert all(b.strike_paise is None and b.instrument in {"STF", "IDF"} for b in futures)
    assert all(b.strike_paise and b.option_type in {"CE", "PE"} for b in options)
    assert any(b.change_in_oi < 0 for b in rows)


def test_fo_bad_values_and_a_strikeless_option_are_reported_alone(
    fo_day: tuple[Path, list[dict[str, str]]],
) -> None:
    path, raw = fo_day
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.namelist()
        lines = archive.read(member).decode().split("\n")
    header = lines[0].split(",")
    option_line = next(i for i, r in enumerate(raw, start=2) if r["OptnTp"])
    future_line = next(i for i, r in enumerate(raw, start=2) if not r["OptnTp"])

    def edit(line_no: int, column: str, value: str) -> None:
        fields = lines[line_no - 1].split(",")
        fields[header.index(column)] = value
        lines[line_no - 1] = ",".join(fields)

    edit(3, "OpnIntrst", "-")
    edit(option_line + 10, "StrkPric", "")
    edit(7, "FinInstrmTp", "XYZ")
    edit(future_line, "StrkPric", "197.50")
    result = parse_udiff_fo(zipped(member, "\n".join(lines)), name=path.name)
    assert [(p.line, p.column) for p in result.problems] == sorted(
        [(3, "OpnIntrst"), (option_line + 10, "StrkPric"), (7, "FinInstrmTp"), (future_line, "StrkPric")]
    )
    assert len(result.rows) == len(raw) - 4


def test_fo_renamed_column_is_an_error(fo_day: tuple[Path, list[dict[str, str]]]) -> None:
    path, _ = fo_day
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.namelist()
        text = archive.read(member).decode()
    with pytest.raises(ReportError) as caught:
        parse_udiff_fo(zipped(member, text.replace("NewBrdLotQty", "LotSize", 1)), name=path.name)
    assert (caught.value.line, caught.value.column) == (1, "NewBrdLotQty")
    assert path.name in str(caught.value)


# --- recognising the kind from the content ---------------------------------------------------------------------


def test_each_kind_is_recognised_from_its_content_whatever_its_name(
    first_day: tuple[Path, list[RawRow]], fo_day: tuple[Path, list[dict[str, str]]]
) -> None:
    eq_path, raw = first_day
    fo_path, _ = fo_day
    bc_path = sorted((eq_path.parent.parent / "corporate_actions").glob("bc*.csv"))[0]
    cases = {
        ReportKind.FULL_BHAVCOPY: eq_path.read_bytes(),
        ReportKind.UDIFF_CM: udiff_cm_zip(raw)[1],
        ReportKind.LEGACY_CM: legacy_cm_csv(raw).encode(),
        ReportKind.UDIFF_FO: fo_path.read_bytes(),
        ReportKind.CORPORATE_ACTIONS_BC: bc_path.read_bytes(),
    }
    for kind, data in cases.items():
        assert detect_kind(data, name="download (3).csv") is kind
        result = parse_report(data, name="download (3).csv")
        assert result.kind is kind and result.rows
        # the bc sample's unparsable purposes are the corporate-actions tests' business
        assert kind is ReportKind.CORPORATE_ACTIONS_BC or not result.problems


def test_a_renamed_column_is_still_recognised_and_named_by_parse_report(
    first_day: tuple[Path, list[RawRow]],
) -> None:
    path, _ = first_day
    text = _text(path).replace("TTL_TRD_QNTY", "TOTAL_QTY", 1)
    assert detect_kind(text.encode()) is ReportKind.FULL_BHAVCOPY
    with pytest.raises(ReportError) as caught:
        parse_report(text.encode(), name=path.name)
    assert caught.value.column == "TTL_TRD_QNTY"


def test_an_unknown_layout_or_segment_is_refused(first_day: tuple[Path, list[RawRow]]) -> None:
    _, raw = first_day
    with pytest.raises(ReportError, match="not an NSE report layout"):
        parse_report(b"INDICES,SYMBOL,CATEGORY\nNIFTY 50,RELIANCE,Broad Market\n", name="idx.csv")
    currency = udiff_cm_csv(raw).replace(",CM,NSE,", ",CD,NSE,")
    with pytest.raises(ReportError, match="segment 'CD'"):
        parse_report(currency.encode(), name="cd.csv")
