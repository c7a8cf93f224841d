"""A minute's volume against the same minute of earlier sessions (the realtime ``volume_spike`` alert).

The 09:15 minute always trades several times the minutes before it, and the lunch hour less: a spike is only
unusual against the same minute of day in past sessions. Earlier sessions come from the exchange calendar (a
holiday is no session), and their bars are read by key in one request; a past minute never changes, so each
(symbol, minute) baseline is read once and kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from mantra.clock import IST, ist_from_ms
from mantra.domain import Candle
from mantra.market.calendar import NseCalendar, default_calendar
from mantra.ports import CandleRepository

MIN_SESSIONS = 3  # fewer earlier sessions with a bar at that minute: too little history to call a spike


def same_minute_starts(start_ms: int, sessions: int, calendar: NseCalendar) -> list[int]:
    """The bar starts at the same IST time of day in the ``sessions`` trading days before ``start_ms``'s."""
    at = ist_from_ms(start_ms)
    day, out = at.date(), []
    for _ in range(sessions):
        day = calendar.previous_trading_day(day - timedelta(days=1))
        out.append(
            int(datetime.combine(day, at.timetz().replace(tzinfo=None), tzinfo=IST).timestamp() * 1000)
        )
    return out


class MinuteBaseline:
    """Average volume of a symbol's 1m bar at a time of day over earlier sessions, cached per minute."""

    def __init__(
        self, candles: CandleRepository, calendar: NseCalendar | None = None, max_entries: int = 50_000
    ) -> None:
        self._candles = candles
        self._calendar = calendar or default_calendar()
        self._cache: OrderedDict[tuple[str, int, int, bool], tuple[int, float] | None] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def average(
        self, symbol: str, start_ms: int, sessions: int, demo: bool = False
    ) -> tuple[int, float] | None:
        """(sessions with a bar, their mean volume), or None with fewer than ``MIN_SESSIONS`` of them. The demo
        feed's bars are only ever compared with the demo feed's."""
        key = (symbol, start_ms, sessions, demo)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        starts = same_minute_starts(start_ms, sessions, self._calendar)
        bars = self._candles.get_many([(symbol, "1m", s) for s in starts])
        real = [c for c in bars.values() if c.is_demo is demo]
        found = None if len(real) < min(MIN_SESSIONS, sessions) else (len(real), _mean(real))
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return found

    def ratio(self, current: Candle, sessions: int) -> tuple[int, float] | None:
        """(this minute's volume, the same minute's average over ``sessions`` earlier sessions)."""
        base = self.average(current.symbol, current.start_ms, sessions, current.is_demo)
        return None if base is None else (current.volume, base[1])


def _mean(bars: list[Candle]) -> float:
    return sum(c.volume for c in bars) / len(bars)
