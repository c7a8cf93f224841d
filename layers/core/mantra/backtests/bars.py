"""Where a job's bars come from: stored candles, else a seeded simulated history (labelled as such).

The platform builds candles from live ticks, so a fresh installation has little history; until a history
loader backfills it, jobs on symbols run on a reproducible simulated daily series and say so.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from mantra.clock import IST
from mantra.domain import Candle
from mantra.ports import CandleRepository

MIN_STORED_BARS = 30


@dataclass(frozen=True)
class BarSet:
    symbol: str
    bars: list[Candle]
    simulated: bool


class BarSource(Protocol):
    def load(self, symbol: str, timeframe: str, start: date, end: date) -> BarSet: ...


def simulated_daily(symbol: str, start: date, end: date, last_close_paise: int) -> list[Candle]:
    """Weekday bars with ~1.6 % daily volatility, seeded by the symbol: the same request gives the same bars."""
    seed = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    days = [start + timedelta(d) for d in range((end - start).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    closes: list[float] = [1.0]
    for _ in days[1:]:
        closes.append(closes[-1] * math.exp(rng.gauss(0.0003, 0.016)))
    scale = last_close_paise / closes[-1]
    out = []
    prev = closes[0] * scale
    for d, c in zip(days, closes, strict=True):
        close = c * scale
        open_ = prev * math.exp(rng.gauss(0, 0.004))
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.006)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, 0.006)))
        start_ms = int(datetime.combine(d, time(9, 15), tzinfo=IST).astimezone(UTC).timestamp() * 1000)
        o, h, lo, cl = (max(5, round(x / 5) * 5) for x in (open_, high, low, close))
        out.append(
            Candle(
                symbol=symbol,
                timeframe="1d",
                start_ms=start_ms,
                open_paise=o,
                high_paise=max(h, o, cl),
                low_paise=min(lo, o, cl),
                close_paise=cl,
                volume=int(rng.lognormvariate(13, 0.5)),
                ticks=0,
                first_tick_ms=start_ms,
                last_tick_ms=start_ms,
            )
        )
        prev = close
    return out


class StoredOrSimulatedBars:
    def __init__(self, candles: CandleRepository, reference_price: dict[str, int]) -> None:
        self._candles, self._reference = candles, reference_price

    def load(self, symbol: str, timeframe: str, start: date, end: date) -> BarSet:
        start_ms = int(datetime.combine(start, time(0), tzinfo=IST).timestamp() * 1000)
        end_ms = int(datetime.combine(end, time(23, 59), tzinfo=IST).timestamp() * 1000)
        stored = self._candles.range(symbol, timeframe, start_ms, end_ms, limit=100_000)
        if len(stored) >= MIN_STORED_BARS or timeframe != "1d":
            return BarSet(symbol, stored, simulated=False)
        return BarSet(symbol, simulated_daily(symbol, start, end, self._reference.get(symbol, 100_000)), True)
