"""Apply a 1-D kernel (TA-Lib's) to every column of a (time x instrument) array.

Arrays are kept in Fortran order (each instrument's bars contiguous) so a column is passed to TA-Lib without a
copy and results are written straight into their column. 1-D input gives 1-D output.

The gap rule: panels align many symbols on one time index, so a symbol without a bar at a time (suspended, not
yet listed, not traded that day) has NaN there. Indicators count a symbol's own bars, as a chart that shows only
traded bars does (TradingView's rule too): a kernel runs over the rows where every input is present, and the
results go back to those rows; a missing row has no value, and the rows after it get values computed as if the
missing row were not there. (TA-Lib alone would carry one NaN into every later value of a recursive indicator
such as EMA or RSI, so a symbol suspended once would never match a scan again.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def as_panel(x: ArrayLike) -> FloatArray:
    """float64, Fortran order; 1-D stays 1-D."""
    return np.asarray(x, dtype=np.float64, order="F")


def apply(fn: Callable[..., Any], arrays: tuple[ArrayLike, ...], n_out: int = 1, **params: Any) -> Any:
    """``fn(*columns, **params)`` per column; returns one array (or a tuple of ``n_out``) shaped like the input."""
    cols = [as_panel(a) for a in arrays]
    shape = cols[0].shape
    for c in cols[1:]:
        if c.shape != shape:
            raise ValueError(f"inputs have different shapes: {shape} and {c.shape}")
    if len(shape) == 1:
        if np.isfinite(cols[0]).all() and all(np.isfinite(c).all() for c in cols[1:]):
            return fn(*cols, **params)
        res = apply(fn, tuple(c[:, None] for c in cols), n_out, **params)
        return res[:, 0] if n_out == 1 else tuple(r[:, 0] for r in res)
    if len(shape) != 2:
        raise ValueError(f"expected a 1-D or 2-D (time x instrument) array, got {len(shape)}-D")
    outs = [np.empty(shape, dtype=np.float64, order="F") for _ in range(n_out)]
    present = _present(cols)
    for j in range(shape[1]):
        if present[:, j].all():
            rows: Any = slice(None)
            res = fn(*(c[:, j] for c in cols), **params)
        else:
            for o in outs:
                o[:, j] = np.nan
            rows = np.flatnonzero(present[:, j])
            if not rows.size:
                continue
            res = fn(*(np.ascontiguousarray(c[rows, j]) for c in cols), **params)
        for o, r in zip(outs, (res,) if n_out == 1 else res, strict=True):
            o[rows, j] = r
    return outs[0] if n_out == 1 else tuple(outs)


def _present(cols: list[FloatArray]) -> BoolArray:
    """Rows (per column) where every input has a value: the symbol's own bars."""
    present = np.isfinite(cols[0])
    for c in cols[1:]:
        present &= np.isfinite(c)
    return present


def over_bars(
    kernel: Callable[..., Any],
    arrays: tuple[ArrayLike, ...],
    n_out: int = 1,
    by_row: tuple[ArrayLike, ...] = (),
) -> Any:
    """``kernel`` on (time x instrument) arrays under the gap rule (see the module docstring).

    ``kernel(*panels, *by_row)`` takes 2-D panels without gaps and returns one panel (or ``n_out``); columns
    without a gap go through it together (vectorised), each column with one is compressed to its own bars
    first. ``by_row`` are (T,) arrays that follow the rows (session ids). 1-D input gives 1-D output.
    """
    cols = [as_panel(a) for a in arrays]
    one_d = cols[0].ndim == 1
    if one_d:
        cols = [c[:, None] for c in cols]
    extra = [np.asarray(e) for e in by_row]
    shape = cols[0].shape
    outs = [np.full(shape, np.nan, dtype=np.float64, order="F") for _ in range(n_out)]
    present = _present(cols)
    whole = present.all(axis=0)

    def put(rows: Any, columns: Any, res: Any) -> None:
        for o, r in zip(outs, (res,) if n_out == 1 else res, strict=True):
            o[np.ix_(rows, columns)] = r

    if whole.all():
        put(np.arange(shape[0]), np.arange(shape[1]), kernel(*cols, *extra))
    else:
        if whole.any():
            columns = np.flatnonzero(whole)
            put(np.arange(shape[0]), columns, kernel(*(c[:, columns] for c in cols), *extra))
        for j in np.flatnonzero(~whole):
            rows = np.flatnonzero(present[:, j])
            if rows.size:
                put(rows, [j], kernel(*(c[rows, j : j + 1] for c in cols), *(e[rows] for e in extra)))
    if one_d:
        return outs[0][:, 0] if n_out == 1 else tuple(o[:, 0] for o in outs)
    return outs[0] if n_out == 1 else tuple(outs)


def shift(x: FloatArray, n: int = 1) -> FloatArray:
    """Values ``n`` bars ago (NaN where there is no history); never looks ahead for n >= 0."""
    out = np.full_like(x, np.nan, dtype=np.float64)
    if n <= 0:
        if n == 0:
            out[...] = x
            return out
        raise ValueError("shift only looks back (n >= 0)")
    if n < x.shape[0]:
        out[n:] = x[:-n]
    return out


def ffill(values: FloatArray, mask: BoolArray) -> FloatArray:
    """At each bar, the value at the most recent bar where ``mask`` was true (NaN before the first)."""
    t = values.shape[0]
    idx = np.arange(t).reshape((t,) + (1,) * (values.ndim - 1))
    last = np.where(mask, idx, -1)
    np.maximum.accumulate(last, axis=0, out=last)
    picked = np.take_along_axis(values, np.maximum(last, 0), axis=0)
    return np.where(last >= 0, picked, np.nan)
