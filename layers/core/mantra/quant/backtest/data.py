"""OHLCV bars: the panel type the engine runs on, CSV loading and validation.

Bad input, and what happens to it (tested in ``tests/unit/quant/test_data.py``):

* wrong or missing columns -> ``DataError`` naming the missing columns and the ones found;
* a date that does not parse -> ``DataError`` with the line number;
* bars out of order -> sorted by date (stable), with a warning;
* duplicated timestamps: exact duplicate rows are dropped with a warning; duplicates that disagree ->
  ``DataError``;
* NaN, empty, zero or negative prices -> ``DataError`` with the line, or dropped with a warning when
  ``drop_bad_rows=True``;
* high below open/close or low above open/close -> ``DataError`` (or dropped with ``drop_bad_rows``);
* gaps (a spacing > 5x the median spacing and > 4 calendar days) -> kept as they are (no synthetic bars are
  invented), reported as a warning;
* zero volume -> kept (indices and illiquid days trade without volume), counted in a warning;
  negative volume -> ``DataError``; a missing Volume column -> volume 0 with a warning;
* fewer than 2 bars -> ``DataError``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
REQUIRED = ("date", "open", "high", "low", "close")


class DataError(ValueError):
    """Input bars that cannot be backtested; the message says what and where."""


@dataclass(frozen=True)
class Bars:
    """Aligned OHLCV for one or more symbols: arrays (T, N), time on axis 0, one column per symbol."""

    index: NDArray[np.datetime64]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    symbols: tuple[str, ...] = ("ASSET",)
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        shape = self.close.shape
        if self.close.ndim != 2:
            raise DataError("price arrays must be 2-D (bars x symbols)")
        for name in ("open", "high", "low", "volume"):
            if getattr(self, name).shape != shape:
                raise DataError(f"{name} has shape {getattr(self, name).shape}, close has {shape}")
        if self.index.shape[0] != shape[0]:
            raise DataError("index length differs from the number of bars")
        if len(self.symbols) != shape[1]:
            raise DataError("one symbol name per column is required")

    @property
    def n_bars(self) -> int:
        return int(self.close.shape[0])

    @property
    def n_symbols(self) -> int:
        return int(self.close.shape[1])

    def column(self, j: int) -> Bars:
        return Bars(
            self.index,
            self.open[:, j : j + 1],
            self.high[:, j : j + 1],
            self.low[:, j : j + 1],
            self.close[:, j : j + 1],
            self.volume[:, j : j + 1],
            (self.symbols[j],),
            self.warnings,
        )

    def slice(self, start: int, stop: int) -> Bars:
        s = slice(start, stop)
        return Bars(
            self.index[s],
            self.open[s],
            self.high[s],
            self.low[s],
            self.close[s],
            self.volume[s],
            self.symbols,
            self.warnings,
        )

    @staticmethod
    def from_arrays(
        index: Sequence[object] | NDArray[np.datetime64] | None,
        open: Sequence[float] | FloatArray,
        high: Sequence[float] | FloatArray,
        low: Sequence[float] | FloatArray,
        close: Sequence[float] | FloatArray,
        volume: Sequence[float] | FloatArray | None = None,
        symbols: Sequence[str] | None = None,
    ) -> Bars:
        """Build from 1-D (one symbol) or 2-D arrays; a missing index counts days from 2000-01-03."""

        def as2d(a: Sequence[float] | FloatArray) -> FloatArray:
            arr = np.asarray(a, dtype=np.float64)
            return arr.reshape(-1, 1) if arr.ndim == 1 else arr

        c = as2d(close)
        vol = as2d(volume) if volume is not None else np.zeros_like(c)
        idx = (
            np.asarray(index, dtype="datetime64[s]")
            if index is not None
            else np.datetime64("2000-01-03", "s") + np.arange(c.shape[0]).astype("timedelta64[D]")
        )
        syms = (
            tuple(symbols)
            if symbols is not None
            else tuple(["ASSET"] if c.shape[1] == 1 else [f"S{j}" for j in range(c.shape[1])])
        )
        return Bars(idx, as2d(open), as2d(high), as2d(low), c, vol, syms)


def infer_periods_per_year(index: NDArray[np.datetime64]) -> float:
    """252 for daily bars, 52 weekly, 12 monthly; intraday: 252 x bars per 6h15m NSE session."""
    if index.shape[0] < 2:
        return 252.0
    secs = float(np.median(np.diff(index.astype("datetime64[s]").astype(np.int64))))
    day = 86400.0
    if secs >= 25 * day:
        return 12.0
    if secs >= 5 * day:
        return 52.0
    if secs >= 0.5 * day:
        return 252.0
    return 252.0 * max(1.0, 22500.0 / max(secs, 1.0))


def validate_bars(bars: Bars, *, drop_bad_rows: bool = False) -> Bars:
    """Check a panel built in code (not from CSV): finite positive prices, sane OHLC, sorted index."""
    if bars.n_bars < 2:
        raise DataError("need at least 2 bars")
    idx = bars.index.astype("datetime64[s]").astype(np.int64)
    if np.any(np.diff(idx) <= 0):
        bad = int(np.flatnonzero(np.diff(idx) <= 0)[0]) + 1
        raise DataError(f"timestamps must be strictly increasing; bar {bad} ({bars.index[bad]}) is not")
    prices = np.stack([bars.open, bars.high, bars.low, bars.close])
    bad_rows = ~np.all(np.isfinite(prices) & (prices > 0), axis=(0, 2))
    bad_rows |= np.any(
        (bars.high < np.maximum(bars.open, bars.close) - 1e-9)
        | (bars.low > np.minimum(bars.open, bars.close) + 1e-9),
        axis=1,
    )
    if np.any(bad_rows):
        first = int(np.flatnonzero(bad_rows)[0])
        if not drop_bad_rows:
            raise DataError(
                f"bar {first} ({bars.index[first]}) has a NaN, non-positive or inconsistent OHLC price "
                f"({int(bad_rows.sum())} such bars)"
            )
        keep = ~bad_rows
        bars = Bars(
            bars.index[keep],
            bars.open[keep],
            bars.high[keep],
            bars.low[keep],
            bars.close[keep],
            bars.volume[keep],
            bars.symbols,
            (*bars.warnings, f"dropped {int(bad_rows.sum())} bars with bad prices"),
        )
    if np.any(bars.volume < 0) or not np.all(np.isfinite(bars.volume)):
        raise DataError("volume must be finite and >= 0")
    return bars


def _parse_float(text: str) -> float:
    t = text.strip().replace(",", "")
    if t == "" or t.lower() in ("nan", "null", "none", "-"):
        return math.nan
    return float(t)


def load_csv(path: str | Path, *, symbol: str | None = None, drop_bad_rows: bool = False) -> Bars:
    """Read ``Date,Open,High,Low,Close[,Volume]`` (any case, extra columns ignored) as ``Bars``."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{p}: the file is empty") from None
        cols = {h.strip().lower(): i for i, h in enumerate(header)}
        if "datetime" in cols and "date" not in cols:
            cols["date"] = cols["datetime"]
        if "timestamp" in cols and "date" not in cols:
            cols["date"] = cols["timestamp"]
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise DataError(
                f"{p}: missing column(s) {', '.join(m.capitalize() for m in missing)}; "
                f"expected Date,Open,High,Low,Close,Volume, found {','.join(h.strip() for h in header)}"
            )
        has_volume = "volume" in cols
        dates: list[str] = []
        rows: list[tuple[float, float, float, float, float]] = []
        lines: list[int] = []
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            try:
                vals = (
                    _parse_float(row[cols["open"]]),
                    _parse_float(row[cols["high"]]),
                    _parse_float(row[cols["low"]]),
                    _parse_float(row[cols["close"]]),
                    _parse_float(row[cols["volume"]]) if has_volume else 0.0,
                )
            except (ValueError, IndexError):
                raise DataError(f"{p}:{lineno}: cannot read a number in {row!r}") from None
            dates.append(row[cols["date"]].strip())
            rows.append(vals)
            lines.append(lineno)
    if len(rows) < 2:
        raise DataError(f"{p}: need at least 2 bars, found {len(rows)}")
    warnings: list[str] = []
    if not has_volume:
        warnings.append("no Volume column: volume set to 0")
    try:
        index = np.array([d.replace("/", "-") for d in dates], dtype="datetime64[s]")
    except ValueError:
        for d, ln in zip(dates, lines, strict=True):
            try:
                np.datetime64(d.replace("/", "-"), "s")
            except ValueError:
                raise DataError(f"{p}:{ln}: cannot parse date {d!r} (use YYYY-MM-DD[ HH:MM[:SS]])") from None
        raise
    arr = np.array(rows, dtype=np.float64)
    return clean_rows(
        index,
        arr,
        symbol or p.stem.upper(),
        lambda k: f"{p}:{lines[k]}",
        warnings,
        has_volume=has_volume,
        drop_bad_rows=drop_bad_rows,
    )


def clean_rows(
    index: NDArray[np.datetime64],
    arr: FloatArray,
    symbol: str,
    where: Callable[[int], str],
    warnings: list[str] | None = None,
    *,
    has_volume: bool = True,
    drop_bad_rows: bool = False,
) -> Bars:
    """Rows (T, 5: open, high, low, close, volume) in input order -> checked one-symbol ``Bars``, with the
    policy in the module docstring.  ``where(k)`` names input row k in messages (a CSV line, a request
    position)."""
    warnings = list(warnings or [])
    if arr.shape[0] < 2:
        raise DataError(f"{symbol}: need at least 2 bars, found {arr.shape[0]}")
    line_arr = np.arange(arr.shape[0])
    # sort (stable), then resolve duplicates
    ts = index.astype(np.int64)
    if np.any(np.diff(ts) < 0):
        order = np.argsort(ts, kind="stable")
        index, arr, line_arr, ts = index[order], arr[order], line_arr[order], ts[order]
        warnings.append("bars were not in date order: sorted by date")
    dup = np.flatnonzero(np.diff(ts) == 0) + 1
    if dup.size:
        same = np.all((arr[dup] == arr[dup - 1]) | (np.isnan(arr[dup]) & np.isnan(arr[dup - 1])), axis=1)
        if not np.all(same):
            k = int(dup[~same][0])
            raise DataError(
                f"{where(int(line_arr[k]))}: duplicate timestamp {index[k]} with different prices than "
                f"{where(int(line_arr[k - 1]))}; remove one of them"
            )
        keep = np.ones(ts.shape[0], dtype=bool)
        keep[dup] = False
        index, arr, line_arr = index[keep], arr[keep], line_arr[keep]
        warnings.append(f"dropped {dup.size} exact duplicate bar(s)")
    o, h, lo, c, v = (arr[:, k] for k in range(5))
    prices = arr[:, :4]
    bad = ~np.all(np.isfinite(prices) & (prices > 0), axis=1)
    bad |= (h < np.maximum(o, c) - 1e-9) | (lo > np.minimum(o, c) + 1e-9) | (h < lo)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        if not drop_bad_rows:
            raise DataError(
                f"{where(int(line_arr[k]))}: bad prices on {str(index[k])[:10]} (NaN, empty, <= 0, or "
                f"High/Low not bracketing Open/Close); {int(bad.sum())} such row(s). "
                "Fix them or pass drop_bad_rows / --drop-bad-rows"
            )
        keep = ~bad
        index, o, h, lo, c, v = index[keep], o[keep], h[keep], lo[keep], c[keep], v[keep]
        warnings.append(f"dropped {int(bad.sum())} row(s) with bad prices")
        if index.shape[0] < 2:
            raise DataError(f"{symbol}: fewer than 2 good bars")
    v = np.where(np.isnan(v), 0.0, v)
    if np.any(v < 0):
        k = int(np.flatnonzero(v < 0)[0])
        raise DataError(f"{symbol}: negative volume on {index[k]}")
    if np.any(v == 0) and has_volume:
        warnings.append(f"{int((v == 0).sum())} bar(s) with zero volume kept")
    steps = np.diff(index.astype(np.int64)).astype(np.float64)
    med = float(np.median(steps))
    gaps = int(np.sum((steps > 5 * med) & (steps > 4 * 86400)))
    if gaps:
        warnings.append(f"{gaps} gap(s) in the bars (no bars invented; returns span the gap)")
    name = symbol
    return Bars(
        index,
        o.reshape(-1, 1),
        h.reshape(-1, 1),
        lo.reshape(-1, 1),
        c.reshape(-1, 1),
        v.reshape(-1, 1),
        (name,),
        tuple(warnings),
    )


def combine(bars: Sequence[Bars], *, how: str = "inner") -> Bars:
    """Align several one-symbol ``Bars`` on common timestamps (inner join) into one panel."""
    if not bars:
        raise DataError("no bars to combine")
    common = bars[0].index
    for b in bars[1:]:
        common = np.intersect1d(common, b.index)
    if common.shape[0] < 2:
        raise DataError("the symbols share fewer than 2 timestamps")
    cols: dict[str, list[FloatArray]] = {k: [] for k in ("open", "high", "low", "close", "volume")}
    syms: list[str] = []
    for b in bars:
        pos = np.searchsorted(b.index, common)
        for k in cols:
            cols[k].append(getattr(b, k)[pos, :])
        syms.extend(b.symbols)
    o, h, lo, c, v = (np.hstack(cols[k]) for k in ("open", "high", "low", "close", "volume"))
    return Bars(common, o, h, lo, c, v, tuple(syms))
