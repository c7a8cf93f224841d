"""Report files the exchange publishes but the shared data folder has no sample of, built for tests.

The UDiFF CM bhavcopy and the legacy ``cm...bhav.csv`` are written here in their published column layouts
from real rows of a full-bhavcopy sample (same symbols, series, prices, volumes, trades, turnover). The full
bhavcopy carries no ISIN; the few ISINs below are the real ones of those companies, every other row leaves
the ISIN empty.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from mantra.market.nse import udiff_cm
from nse_files import nse_data_dir

REAL_ISINS = {
    "RELIANCE": "INE002A01018",
    "TCS": "INE467B01029",
    "INFY": "INE009A01021",
    "SBIN": "INE062A01020",
    "HDFCBANK": "INE040A01034",
}


@dataclass(frozen=True)
class RawRow:
    """One full-bhavcopy row as text, exactly as published (the fields stripped of the ", " separator)."""

    line: int
    fields: dict[str, str]


def equity_files() -> list[Path]:
    """The 80 full-bhavcopy samples, by session date."""
    return sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )


def fo_files() -> list[Path]:
    return sorted((nse_data_dir() / "fo").glob("BhavCopy_NSE_FO_*.csv.zip"))


def raw_rows(path: Path) -> list[RawRow]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        return [RawRow(reader.line_num, dict(r)) for r in reader]


def session_of(rows: list[RawRow]) -> date:
    (text,) = {r.fields["DATE1"] for r in rows}
    return datetime.strptime(text, "%d-%b-%Y").date()


def rupees_from_lakhs(lakhs: str) -> str:
    """The full bhavcopy's turnover (lakhs, 2 decimals) in rupees as the UDiFF/legacy files print it."""
    return f"{Decimal(lakhs) * 100_000:.2f}"


def udiff_cm_csv(rows: list[RawRow]) -> str:
    """A UDiFF CM bhavcopy's CSV: the 34 UDiFF columns, ``Sgmt`` CM, ISO dates, turnover in rupees."""
    day = session_of(rows).isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(udiff_cm.COLUMNS)
    for n, r in enumerate(rows, start=1):
        f = r.fields
        writer.writerow(
            [
                day,
                day,
                "CM",
                "NSE",
                "STK",
                str(1000 + n),
                REAL_ISINS.get(f["SYMBOL"], ""),
                f["SYMBOL"],
                f["SERIES"],
                "",
                "",
                "",
                "",
                f["SYMBOL"],
                f["OPEN_PRICE"],
                f["HIGH_PRICE"],
                f["LOW_PRICE"],
                f["CLOSE_PRICE"],
                f["LAST_PRICE"],
                f["PREV_CLOSE"],
                "",
                f["CLOSE_PRICE"],
                "",
                "",
                f["TTL_TRD_QNTY"],
                rupees_from_lakhs(f["TURNOVER_LACS"]),
                f["NO_OF_TRADES"],
                "F1",
                "1",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return out.getvalue()


def zipped(name: str, text: str) -> bytes:
    """A zip holding one CSV, as the exchange publishes its UDiFF files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buf.getvalue()


def udiff_cm_zip(rows: list[RawRow]) -> tuple[str, bytes]:
    name = f"BhavCopy_NSE_CM_0_0_0_{session_of(rows):%Y%m%d}_F_0000.csv"
    return name + ".zip", zipped(name, udiff_cm_csv(rows))


def legacy_cm_csv(rows: list[RawRow]) -> str:
    """A legacy ``cmDDMONYYYYbhav.csv``: TIMESTAMP like 01-JAN-2025, every line ending in a comma."""
    stamp = session_of(rows).strftime("%d-%b-%Y").upper()
    lines = [
        "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,"
    ]
    for r in rows:
        f = r.fields
        values = [
            f["SYMBOL"],
            f["SERIES"],
            f["OPEN_PRICE"],
            f["HIGH_PRICE"],
            f["LOW_PRICE"],
            f["CLOSE_PRICE"],
            f["LAST_PRICE"],
            f["PREV_CLOSE"],
            f["TTL_TRD_QNTY"],
            rupees_from_lakhs(f["TURNOVER_LACS"]),
            stamp,
            f["NO_OF_TRADES"],
            REAL_ISINS.get(f["SYMBOL"], ""),
        ]
        lines.append(",".join(values) + ",")
    return "\n".join(lines) + "\n"


def legacy_cm_name(rows: list[RawRow]) -> str:
    return f"cm{session_of(rows).strftime('%d%b%Y').upper()}bhav.csv"


# the download's header line as published
HISTORY_HEADER = '"SYMBOL","COMPANY NAME","SERIES","PURPOSE","FACE VALUE","EX-DATE","RECORD DATE","BC START DATE","BC END DATE"\n'
# (symbol, company, purpose, face value, ex-date): the ex-dates are the days the samples' closes drop
REAL_ACTIONS = [
    (
        "SHRIRAMFIN",
        "Shriram Finance Limited",
        "FACE VALUE SPLIT (SUB-DIVISION) - FROM RS 10/- PER SHARE TO RS 2/- PER SHARE",
        "2",
        "10-Jan-2025",
    ),
    ("IGL", "Indraprastha Gas Limited", "BONUS 1:1", "2", "31-Jan-2025"),
    ("KAMDHENU", "Kamdhenu Limited", "FVSPLT FRM RS 10 TO RE 1", "1", "08-Jan-2025"),
    ("SENCO", "Senco Gold Limited", "FV SPLIT RS.10/- TO RS.5/-", "5", "31-Jan-2025"),
    ("SIEMENS", "Siemens Limited", "DEMERGER", "2", "07-Apr-2025"),
]


def history_csv(rows: list[tuple[str, ...]]) -> bytes:
    """The exchange's corporate-actions download: every field quoted, DD-Mon-YYYY dates, '-' for none."""
    out = io.StringIO()
    out.write(HISTORY_HEADER)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for symbol, company, purpose, face, ex in rows:
        writer.writerow([symbol, company, "EQ", purpose, face, ex, ex, "-", "-"])
    return out.getvalue().encode()
