"""Apply a 1-D kernel (TA-Lib's) to every column of a (time x instrument) array.

Arrays are kept in Fortran order (each instrument's bars contiguous) so a column is passed to TA-Lib without a
copy and results are written straight into their column. 1-D input gives 1-D output.
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
        return fn(*cols, **params)
    if len(shape) != 2:
        raise ValueError(f"expected a 1-D or 2-D (time x instrument) array, got {len(shape)}-D")
    outs = [np.empty(shape, dtype=np.float64, order="F") for _ in range(n_out)]
    for j in range(shape[1]):
        res = fn(*(c[:, j] for c in cols), **params)
        if n_out == 1:
            outs[0][:, j] = res
        else:
            for o, r in zip(outs, res, strict=True):
                o[:, j] = r
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
