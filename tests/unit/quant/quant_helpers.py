"""Shared helpers for the quant tests (imported by module name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mantra.quant.backtest.data import Bars

DATA = Path(__file__).resolve().parents[3] / "layers" / "core" / "mantra" / "data"
STOCK_CSV = DATA / "sample_stock_daily.csv"
NIFTY_CSV = DATA / "sample_nifty50_daily.csv"


def random_bars(t: int = 600, n: int = 1, seed: int = 0, vol: float = 0.015) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0.0003, vol, (t, n)), axis=0))
    prev = np.vstack([np.full((1, n), 100.0), c[:-1]])
    o = prev * np.exp(rng.normal(0, vol / 3, (t, n)))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, vol / 2, (t, n))))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, vol / 2, (t, n))))
    return Bars.from_arrays(None, o, h, lo, c, np.full((t, n), 1e5))
