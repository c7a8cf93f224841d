"""Shared machinery of the parsers: bytes in, a header checked by name, rows out, values converted strictly.

Reading uses the ``csv`` module (``skipinitialspace`` for the full bhavcopy's ", " separators). A value that is
not what its column needs raises ``FieldError``; the parsers turn it into a ``ParseProblem`` for that row and go
on with the next one.
"""

from __future__ import annotations

import csv
import difflib
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from mantra.market.nse.types import ParseProblem, ReportError

Source = Path | str | bytes

_ZIP_MAGIC = b"PK\x03\x04"
_MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


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
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1:
                    raise ReportError(label, f"a report zip holds one CSV; this one holds {len(members)} files")
                label = f"{label}!{members[0].filename}"
                data = archive.read(members[0])
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
            raise ReportError(label, f"broken or truncated zip ({exc})") from exc
        except (OSError, ValueError, NotImplementedError) as exc:
            if isinstance(exc, ReportError):
                raise
            raise ReportError(label, f"broken or truncated zip ({exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text, label


def header_of(text: str) -> list[str]:
    """The first line's column names, stripped (of spaces, quotes and a byte-order mark)."""
    first = text.split("\n", 1)[0]
    return [c.strip() for c in next(csv.reader([first], skipinitialspace=True), [])]


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

    def rows(self, problems: list[ParseProblem]) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for every data row with the header's field count; others become problems.

        A file that does not end with a newline was cut short (every published report ends with one): its
        last row is reported and dropped, even when its field count happens to fit.
        """
        reader = self._reader
        line = 1
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
            if len(fields) != self.width:
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
            if self._cut_last:
                problems.append(
                    ParseProblem(
                        self.source,
                        pending[0],
                        None,
                        "the file ends in the middle of this row (truncated download?)",
                        value=",".join(pending[1])[:120],
                        symbol=pending[1][0].strip() or None,
                    )
                )
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


class DateCache:
    """Every row of a day carries the same date text: convert it once."""

    def __init__(self, convert: Callable[[str, str], date]) -> None:
        self._convert = convert
        self._seen: dict[str, date] = {}

    def __call__(self, text: str, column: str) -> date:
        got = self._seen.get(text)
        if got is None:
            got = self._seen[text] = self._convert(text, column)
        return got


def problem(source: str, line: int, exc: FieldError, symbol: str | None) -> ParseProblem:
    return ParseProblem(source, line, exc.column, exc.reason, value=exc.value, symbol=symbol)
