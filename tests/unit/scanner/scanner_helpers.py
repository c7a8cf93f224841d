"""Panels for scanner tests: seeded random walks and hand-built bars."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from mantra.clock import IST
from mantra.quant.scanner.frame import Frame, Panel

DAY_MS = 86_400_000


def ist_ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=IST).timestamp() * 1000)


def daily_index(n: int, start: tuple[int, int, int] = (2024, 1, 1)) -> np.ndarray:
    return ist_ms(*start) + np.arange(n, dtype=np.int64) * DAY_MS


def random_frame(
    t: int = 300,
    n: int = 6,
    tf: str = "1d",
    seed: int = 7,
    index: np.ndarray | None = None,
    vol: float = 0.02,
) -> Frame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, (t, n)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * (1 + rng.normal(0, vol / 4, (t, n)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, (t, n))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, (t, n))))
    volume = rng.lognormal(10, 0.5, (t, n))
    idx = index if index is not None else daily_index(t)
    return Frame(tf, np.asarray(idx, dtype=np.int64), open_, high, low, close, volume)


def panel_of(frame: Frame, symbols: tuple[str, ...] | None = None) -> Panel:
    syms = symbols or tuple(f"S{i}" for i in range(frame.shape[1]))
    return Panel(syms, {frame.timeframe: frame}, frame.timeframe)


def bars(rows: list[tuple[float, float, float, float, float]], tf: str = "1d") -> Frame:
    """One instrument from (open, high, low, close, volume) rows."""
    a = np.array(rows, dtype=np.float64)
    return Frame(tf, daily_index(len(rows)), a[:, :1], a[:, 1:2], a[:, 2:3], a[:, 3:4], a[:, 4:5])
