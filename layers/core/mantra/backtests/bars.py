"""Where a job's bars come from: stored candles, else a seeded simulated history (labelled as such).

The platform builds candles from live ticks, so a fresh installation has little history; until a history
loader backfills it, jobs on symbols run on a reproducible simulated daily series and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from mantra.clock import IST
from mantra.domain import Candle
from mantra.market.history import generate
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
    """Weekday bars between ``start`` and ``end`` from the platform's seeded history generator, ending at
    ``last_close_paise``: the same request gives the same bars."""
    days = [start + timedelta(d) for d in range((end - start).days + 1)]
    starts = [
        int(datetime.combine(d, time(9, 15), tzinfo=IST).astimezone(UTC).timestamp() * 1000)
        for d in days
        if d.weekday() < 5
    ]
    return generate(symbol, "1d", starts, last_close_paise)


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
