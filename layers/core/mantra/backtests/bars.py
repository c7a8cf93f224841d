"""Where a job's bars come from: stored candles only, with an account of the sessions they lack.

Nothing is generated. A symbol with too little stored history is refused when the job is submitted (the API
answers 4xx naming the symbol and the span); a job that runs over a span with gaps says which sessions were
missing, counted against the exchange calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from mantra.clock import IST, ist_from_ms
from mantra.domain import Candle
from mantra.errors import Invalid
from mantra.market.calendar import NseCalendar, default_calendar
from mantra.ports import CandleRepository

MIN_STORED_BARS = 30  # fewer cannot warm up the library's indicators, let alone give a verdict
SHOWN_MISSING = 10


@dataclass(frozen=True)
class BarSet:
    symbol: str
    bars: list[Candle]
    expected_sessions: int  # trading sessions in the span (daily bars; 0 for intraday)
    missing: tuple[date, ...]  # trading sessions in the span without a stored bar (daily bars)

    def describe(self) -> dict[str, object]:
        """The result's account of this symbol's data."""
        first = ist_from_ms(self.bars[0].start_ms).date().isoformat() if self.bars else None
        last = ist_from_ms(self.bars[-1].start_ms).date().isoformat() if self.bars else None
        return {
            "source": "stored",
            "bars": len(self.bars),
            "first": first,
            "last": last,
            "expected_sessions": self.expected_sessions,
            "missing_sessions": [d.isoformat() for d in self.missing],
        }

    def warning(self) -> str | None:
        if not self.missing:
            return None
        shown = ", ".join(d.isoformat() for d in self.missing[:SHOWN_MISSING])
        more = f" and {len(self.missing) - SHOWN_MISSING} more" if len(self.missing) > SHOWN_MISSING else ""
        return f"{self.symbol}: no stored bar for {len(self.missing)} of {self.expected_sessions} sessions: {shown}{more}"


class BarSource(Protocol):
    def load(self, symbol: str, timeframe: str, start: date, end: date) -> BarSet: ...


class StoredBars:
    def __init__(self, candles: CandleRepository, calendar: NseCalendar | None = None) -> None:
        self._candles, self._calendar = candles, calendar or default_calendar()

    def load(self, symbol: str, timeframe: str, start: date, end: date) -> BarSet:
        start_ms = int(datetime.combine(start, time(0), tzinfo=IST).timestamp() * 1000)
        end_ms = int(datetime.combine(end, time(23, 59, 59), tzinfo=IST).timestamp() * 1000)
        # demo-feed bars are not market data: a backtest never runs on them
        stored = [
            c for c in self._candles.range(symbol, timeframe, start_ms, end_ms, 100_000) if not c.is_demo
        ]
        if timeframe != "1d":
            return BarSet(symbol, stored, 0, ())
        have = {ist_from_ms(c.start_ms).date() for c in stored}
        days = (start + timedelta(n) for n in range((end - start).days + 1))
        sessions = [d for d in days if self._calendar.is_trading_day(d)]
        return BarSet(symbol, stored, len(sessions), tuple(d for d in sessions if d not in have))


def require_history(bars: BarSet, timeframe: str, start: date, end: date) -> None:
    """Refuse a span with too little real data, naming the symbol and the span."""
    if len(bars.bars) >= MIN_STORED_BARS:
        return
    span = f"{start.isoformat()} to {end.isoformat()}"
    raise Invalid(
        f"{bars.symbol}: {len(bars.bars)} stored {timeframe} bars from {span}; a backtest needs at least "
        f"{MIN_STORED_BARS}. Load its history first (mantra history load) or choose a span it covers"
    )
