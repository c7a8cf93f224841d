"""Shared machinery of the parsers: bytes in, a header checked by name, rows out, values converted strictly.

Reading uses the ``csv`` module (``skipinitialspace`` for the full bhavcopy's ", " separators). A value that is
not what its column needs raises ``FieldError``; the parsers turn it into a ``ParseProblem`` for that row and go
on with the next one.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from mantra.market.nse.types import ParseProblem, ReportError

Source = Path | str | bytes
RowT = TypeVar("RowT")

_ZIP_MAGIC = b"PK\x03\x04"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}


class FieldError(ValueError):
    """One value that its column cannot hold."""

    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}: {value!r}")
        self.column = column
        self.value = value
        self.reason = reason


def load_text(source: Source, name: str | None = None) -> tuple[str, str]:
    """The text of a report and the name to quote in errors. A zip must hold exactly one CSV (as published)."""
    if isinstance(source, bytes):
        data, label = source, name or "<bytes>"
    else:
        path = Path(source)
        label = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReportError(label, f"cannot be read: {exc.strerror or exc}") from exc
    if data.startswith(_ZIP_MAGIC):
        data, label = _unzip_one(data, label)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text, label


def _unzip_one(data: bytes, label: str) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) == 1:
                return archive.read(members[0]), f"{label}!{members[0].filename}"
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise ReportError(label, f"broken or truncated zip ({exc})") from exc
    raise ReportError(label, f"a report zip holds one CSV; this one holds {len(members)} files")


def header_of(text: str) -> list[str]:
    """The first line's column names, stripped (of spaces, quotes and a byte-order mark)."""
    return [c.strip() for c in next(csv.reader(_lines(text, 1), skipinitialspace=True), [])]


def first_row(text: str) -> dict[str, str]:
    """The first data row by column name ({} when there is none): enough to tell UDiFF segments apart."""
    header, *rest = list(csv.reader(_lines(text, 2), skipinitialspace=True)) or [[]]
    return dict(zip((h.strip() for h in header), (v.strip() for v in rest[0]), strict=False)) if rest else {}


def _lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines, without copying the rest of a multi-megabyte text."""
    out: list[str] = []
    start = 0
    while len(out) < n and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out


class Table:
    """A CSV report with its header checked: ``index[column]`` gives the position of each required column."""

    def __init__(self, text: str, source: str, required: Sequence[str]) -> None:
        self.source = source
        self.text = text
        self._reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
        try:
            header = [c.strip() for c in next(self._reader)]
        except StopIteration:
            raise ReportError(source, "empty file: no header line", line=1) from None
        except csv.Error as exc:
            raise ReportError(source, f"unreadable header ({exc})", line=1) from exc
        self.header = header
        self.width = len(header)
        self.index: dict[str, int] = {}
        for column in required:
            try:
                self.index[column] = header.index(column)
            except ValueError:
                close = difflib.get_close_matches(column, [h for h in header if h not in required], n=1)
                hint = f"; found {close[0]!r} instead (renamed?)" if close else ""
                raise ReportError(source, f"required column missing{hint}", line=1, column=column) from None
        self._cut_last = not text.endswith("\n")

    def records(self, problems: list[ParseProblem]) -> tuple[list[int], list[list[str]]]:
        """The line numbers and fields of every data row with the header's field count; others are problems.

        The fast path reads the whole file in one call; when a row is malformed, blank or spans lines, the
        file is read again row by row to say which line is at fault.
        """
        try:
            everything: list[list[str]] | None = list(self._reader)
        except csv.Error:
            everything = None
        width = self.width
        if (
            everything is not None
            and self._reader.line_num == len(everything) + 1
            and set(map(len, everything)) <= {width}
        ):
            lines = list(range(2, len(everything) + 2))
            if everything and self._cut_last:
                problems.append(self._cut(lines.pop(), everything.pop()))
            return lines, everything
        reader = csv.reader(io.StringIO(self.text, newline=""), skipinitialspace=True)
        next(reader)
        lines, fields = [], []
        for line, row in self._rows(reader, problems):
            lines.append(line)
            fields.append(row)
        return lines, fields

    def _cut(self, line: int, fields: list[str]) -> ParseProblem:
        return ParseProblem(
            self.source,
            line,
            None,
            "the file ends in the middle of this row (truncated download?)",
            value=",".join(fields)[:120],
            symbol=fields[0].strip() or None,
        )

    def _rows(self, reader: Any, problems: list[ParseProblem]) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for every data row with the header's field count; others become problems.

        A file that does not end with a newline was cut short (every published report ends with one): its
        last row is reported and dropped, even when its field count happens to fit.
        """
        line = 1
        last_bad = False
        pending: tuple[int, list[str]] | None = None
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(ParseProblem(self.source, reader.line_num, None, f"unreadable row ({exc})"))
                continue
            line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            last_bad = len(fields) != self.width
            if last_bad:
                problems.append(
                    ParseProblem(
                        self.source,
                        line,
                        None,
                        f"row has {len(fields)} fields, the header has {self.width} (truncated or malformed line)",
                        value=",".join(fields)[:120],
                        symbol=fields[0].strip() or None,
                    )
                )
                continue
            if pending is not None:
                yield pending
            pending = (line, fields)
        if pending is not None:
            if self._cut_last and not last_bad:
                problems.append(self._cut(*pending))
            else:
                yield pending


def paise(text: str, column: str) -> int:
    """'1254.80' -> 125480. Whole paise only: '-', text, a sign or a fraction of a paisa is an error."""
    if len(text) > 3 and text[-3] == ".":  # the published form, 2 decimals: the fast path
        digits = text[:-3] + text[-2:]
        if digits.isdecimal():
            return int(digits)
    return _paise_slow(text, column)


def _paise_slow(text: str, column: str) -> int:
    whole, _, frac = text.strip().partition(".")
    n = len(frac)
    if n == 2:
        digits = whole + frac
    elif n == 0:
        digits = whole + "00"
    elif n == 1:
        digits = whole + frac + "0"
    else:
        if frac[2:].strip("0"):
            raise FieldError(column, text, "more than 2 decimal places (a fraction of a paisa)")
        digits = whole + frac[:2]
    if not whole or not digits.isdecimal():
        raise FieldError(column, text, "not a price")
    return int(digits)


def optional_paise(text: str, column: str) -> int | None:
    """A price that may be absent (an empty field)."""
    return paise(text, column) if text.strip() else None


def count(text: str, column: str) -> int:
    """A whole non-negative number (shares, trades, contracts); '12.00' is accepted as 12."""
    if text.isdecimal():
        return int(text)
    t = text.strip()
    if t.isdecimal():
        return int(t)
    whole, dot, frac = t.partition(".")
    if dot and whole.isdecimal() and frac.isdecimal() and not frac.strip("0"):
        return int(whole)
    raise FieldError(column, text, "not a whole number")


def signed_count(text: str, column: str) -> int:
    t = text.strip()
    if t.startswith("-"):
        return -count(t[1:], column)
    return count(t, column)


def optional_count(text: str, column: str, *, dash: bool = False) -> int | None:
    """A count that may be empty or, where ``dash``, printed as '-' (the full bhavcopy's DELIV_QTY)."""
    t = text.strip()
    if not t or (dash and t == "-"):
        return None
    return count(t, column)


def amount(text: str, column: str) -> Decimal:
    """An exact non-negative decimal amount."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise FieldError(column, text, "not an amount") from None
    if not value.is_finite() or value < 0:
        raise FieldError(column, text, "not an amount")
    return value


def iso_date(text: str, column: str) -> date:
    """'2025-02-03'."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FieldError(column, text, "not a date (YYYY-MM-DD)") from None


def dmy_date(text: str, column: str) -> date:
    """'01-Jan-2025' or '01-JAN-2024' (the exchange's two spellings)."""
    day, _, rest = text.strip().partition("-")
    mon, _, year = rest.partition("-")
    month = _MONTHS.get(mon.upper())
    if month is None or not (day.isdigit() and year.isdigit() and len(year) == 4):
        raise FieldError(column, text, "not a date (DD-Mon-YYYY)")
    try:
        return date(int(year), month, int(day))
    except ValueError:
        raise FieldError(column, text, "not a date (DD-Mon-YYYY)") from None


def problem(source: str, line: int, exc: FieldError, symbol: str | None) -> ParseProblem:
    return ParseProblem(source, line, exc.column, exc.reason, value=exc.value, symbol=symbol)


def traded_paise(text: str, column: str) -> int | None:
    """A price the F&O report prints as 0.00 (or leaves empty) when there was no trade to set it: None then."""
    if not text.strip():
        return None
    value = paise(text, column)
    return value or None


# Column-at-a-time conversion: a whole column is checked with one regular expression and converted in bulk
# (the fast path, every published file); only a column that fails the check is converted value by value, to
# find and name the bad rows. A day of the full bhavcopy is ~41,000 values: per-value calls cost most of it.

Converted = tuple[list[Any], dict[int, FieldError]]

# [0-9], not \d (which takes any Unicode digit); at most 15-18 digits, so a whole column fits int64 exactly.
_PRICES = re.compile(r"[0-9]{1,15}\.[0-9][0-9](?:\n[0-9]{1,15}\.[0-9][0-9])*")
_OPTIONAL_PRICES = re.compile(r"(?:[0-9]{1,15}\.[0-9][0-9])?(?:\n(?:[0-9]{1,15}\.[0-9][0-9])?)*")
_COUNTS = re.compile(r"[0-9]{1,18}(?:\n[0-9]{1,18})*")
_COUNTS_OR_DASH = re.compile(r"(?:[0-9]{1,18}|-)(?:\n(?:[0-9]{1,18}|-))*")
_SIGNED_COUNTS = re.compile(r"-?[0-9]{1,18}(?:\n-?[0-9]{1,18})*")
_AMOUNTS = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:\n[0-9]+(?:\.[0-9]+)?)*")


def _by_value(values: Sequence[str], column: str, one: Callable[[str, str], Any]) -> Converted:
    out: list[Any] = []
    errors: dict[int, FieldError] = {}
    for i, v in enumerate(values):
        try:
            out.append(one(v, column))
        except FieldError as exc:
            out.append(None)
            errors[i] = exc
    return out, errors


def _bulk(
    values: Sequence[str],
    column: str,
    check: re.Pattern[str],
    convert: Callable[[str, Sequence[str]], list[Any]],
    one: Callable[[str, str], Any],
) -> Converted:
    if not values:
        return [], {}
    joined = "\n".join(values)
    if check.fullmatch(joined):
        return convert(joined, values), {}
    return _by_value(values, column, one)


def _ints(digits: str, n: int) -> list[int]:
    """``n`` newline-separated integers, already checked by a pattern above, in one C call (numpy's text
    reader: ~10x ``map(int, ...)``), back as Python ints."""
    out: list[int] = np.fromstring(digits, dtype=np.int64, sep="\n").tolist()
    if len(out) != n:  # cannot happen after the pattern; never return a short column
        raise AssertionError(f"read {len(out)} integers of {n}")
    return out


def _all_paise(joined: str, values: Sequence[str]) -> list[int]:
    return _ints(joined.replace(".", ""), len(values))


def _all_ints(joined: str, values: Sequence[str]) -> list[int]:
    return _ints(joined, len(values))


def paise_column(values: Sequence[str], column: str) -> Converted:
    return _bulk(values, column, _PRICES, _all_paise, paise)


def optional_paise_column(values: Sequence[str], column: str) -> Converted:
    """Prices that may be empty (a future's strike): None there."""
    return _bulk(
        values,
        column,
        _OPTIONAL_PRICES,
        lambda j, vs: [int(v[:-3] + v[-2:]) if v else None for v in vs],
        optional_paise,
    )


def traded_paise_column(values: Sequence[str], column: str) -> Converted:
    return _bulk(values, column, _PRICES, lambda j, vs: [p or None for p in _all_paise(j, vs)], traded_paise)


def count_column(values: Sequence[str], column: str) -> Converted:
    return _bulk(values, column, _COUNTS, _all_ints, count)


def signed_count_column(values: Sequence[str], column: str) -> Converted:
    return _bulk(values, column, _SIGNED_COUNTS, _all_ints, signed_count)


def delivery_column(values: Sequence[str], column: str) -> Converted:
    """Shares delivered; the full bhavcopy prints '-' where it has no figure (None)."""
    return _bulk(
        values,
        column,
        _COUNTS_OR_DASH,
        lambda j, vs: [None if v == "-" else int(v) for v in vs],
        lambda v, c: optional_count(v, c, dash=True),
    )


def amount_column(values: Sequence[str], column: str) -> Converted:
    return _bulk(values, column, _AMOUNTS, lambda j, vs: list(map(Decimal, vs)), amount)


def date_column(values: Sequence[str], column: str, convert: Callable[[str, str], date]) -> Converted:
    """Every row of a day carries the same few date texts: each distinct one is converted once."""
    seen: dict[str, date] = {}
    errors: dict[str, FieldError] = {}
    for text in set(values):
        try:
            seen[text] = convert(text, column)
        except FieldError as exc:
            errors[text] = exc
    if not errors:
        return list(map(seen.__getitem__, values)), {}
    return [seen.get(v) for v in values], {i: errors[v] for i, v in enumerate(values) if v in errors}


def text_column(values: Sequence[str], column: str, *, required: bool = True) -> Converted:
    out = list(map(str.strip, values))
    if not required:
        return [v or None for v in out], {}
    return out, {i: FieldError(column, values[i], "empty") for i, v in enumerate(out) if not v}


ColumnConverter = Callable[[Sequence[str], str], Converted]
ColumnSpec = tuple[
    str | None, ColumnConverter | None
]  # (column, converter); (None, None) is a field always None


def build_rows(
    table: Table,
    problems: list[ParseProblem],
    specs: Sequence[ColumnSpec],
    make: Callable[[tuple[Any, ...]], RowT],
    *,
    symbol_column: str,
    checks: Sequence[tuple[str, ColumnConverter]] = (),
    validate: Callable[[RowT], FieldError | None] | None = None,
) -> list[RowT]:
    """Rows built from ``specs`` (one per field of the row type, in order), converted a column at a time.

    A row with any bad value (or failing one of ``checks``) is reported once, for its first bad column in
    field order, and left out; every other row is kept. ``validate`` checks a built row across its fields
    (an option without a strike). ``problems`` ends up in line order.
    """
    with _collector_paused():
        return _build_rows(table, problems, specs, make, symbol_column, checks, validate)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report's rows are built.

    Reading a day allocates one list per row and one tuple per result (~70,000 containers for an F&O day, none
    of them cyclic); the collector would walk the growing heap again and again meanwhile (measured: ~40 % of
    an F&O parse). Restored on the way out, as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_rows(
    table: Table,
    problems: list[ParseProblem],
    specs: Sequence[ColumnSpec],
    make: Callable[[tuple[Any, ...]], RowT],
    symbol_column: str,
    checks: Sequence[tuple[str, ColumnConverter]],
    validate: Callable[[RowT], FieldError | None] | None,
) -> list[RowT]:
    lines, fields = table.records(problems)
    if not fields:
        return []
    by_column = list(zip(*fields, strict=True))
    bad: dict[int, FieldError] = {}
    for column, check in checks:
        for i, exc in check(by_column[table.index[column]], column)[1].items():
            bad.setdefault(i, exc)
    converted: list[list[Any]] = []
    for name, convert in specs:
        if name is None or convert is None:
            converted.append([None] * len(fields))
            continue
        values, errors = convert(by_column[table.index[name]], name)
        converted.append(values)
        for i, exc in errors.items():
            bad.setdefault(i, exc)
    records = zip(*converted, strict=True)
    if not bad and validate is None:
        return list(map(make, records))
    built = [None if i in bad else make(r) for i, r in enumerate(records)]
    if validate is not None:
        for i, row in enumerate(built):
            if row is not None and (wrong := validate(row)) is not None:
                bad[i] = wrong
    symbols = by_column[table.index[symbol_column]]
    for i, exc in bad.items():
        problems.append(problem(table.source, lines[i], exc, symbols[i].strip() or None))
    problems.sort(key=lambda p: p.line)
    return [row for i, row in enumerate(built) if row is not None and i not in bad]
