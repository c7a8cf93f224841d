"""The real NSE daily reports in ``shared/data/nse`` (see its README), read for tests as plain arrays.

A fixture reader, not the product's parser: the csv module over the full bhavcopy files, one series, closes
as published (unadjusted), NaN where a symbol has no row that day (a gap, as on a real exchange).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def nse_data_dir() -> Path:
    """``MANTRA_NSE_DATA_DIR``, else the first ``shared/data/nse`` beside this checkout or one of its parents."""
    if named := os.environ.get("MANTRA_NSE_DATA_DIR"):
        return Path(named)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "nse"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no shared/data/nse beside the repository; set MANTRA_NSE_DATA_DIR")


@dataclass(frozen=True)
class DailyPanel:
    """(day x symbol) arrays in rupees; days ascending."""

    days: list[date]
    symbols: list[str]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]


@cache
def _rows(path: Path, series: str) -> dict[str, tuple[float, float, float, float, float]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        return {
            r["SYMBOL"]: tuple(  # type: ignore[misc]
                float(r[k]) for k in ("OPEN_PRICE", "HIGH_PRICE", "LOW_PRICE", "CLOSE_PRICE", "TTL_TRD_QNTY")
            )
            for r in reader
            if r["SERIES"] == series
        }


def daily_panel(symbols: list[str] | None = None, series: str = "EQ") -> DailyPanel:
    """Every equity file's rows of ``symbols`` (default: those present every day), aligned on the days."""
    files = sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )
    days = [datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y").date() for p in files]
    per_day = [_rows(p, series) for p in files]
    if symbols is None:
        symbols = sorted(set.intersection(*(set(d) for d in per_day)))
    arrays = np.full((5, len(days), len(symbols)), np.nan)
    for t, rows in enumerate(per_day):
        for j, s in enumerate(symbols):
            if s in rows:
                arrays[:, t, j] = rows[s]
    return DailyPanel(days, symbols, *(np.asfortranarray(a) for a in arrays))


def symbols_with_gaps(series: str = "EQ") -> list[str]:
    """Symbols with a row on the first and the last day but missing on some day between (suspended, not traded)."""
    files = sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: datetime.strptime(p.stem.rsplit("_", 1)[1], "%d%m%Y"),
    )
    per_day = [set(_rows(p, series)) for p in files]
    return sorted(s for s in per_day[0] & per_day[-1] if not all(s in d for d in per_day))
