"""Backfill and gap repair of 1-minute bars from a broker's history API.

Both are one operation: find the in-session minutes (per the NSE calendar) of a span that hold no market-data
bar, ask the broker for just those stretches, and store the broker's bars for exactly those minutes.

* ``backfill(instrument, sessions)`` covers the last ``sessions`` trading sessions (today's once it has begun),
  for an instrument newly subscribed;
* ``repair(instrument, start_ms, end_ms)`` covers any span, e.g. a feed outage.

A stored live or EOD bar is never overwritten; a demo-feed bar is not market data, so its minute counts as
missing and the broker's bar replaces it whole (as a real tick replaces a demo bar in ``keep_apart``). The
still-forming minute is never asked for. Running either again writes nothing new: the minutes it filled are no
longer missing, and a minute the broker had no bar for (no trade in it) stays missing and is only asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from mantra.clock import IST, Clock, ist_from_ms
from mantra.domain import Candle, Instrument
from mantra.market.broker_history import BrokerHistory, BrokerHistoryError, RowProblem
from mantra.market.calendar import CLOSE, OPEN, NseCalendar, default_calendar
from mantra.ports import CandleRepository

log = logging.getLogger(__name__)

MINUTE_MS = 60_000
TF = "1m"
MAX_SESSIONS = 250  # a year of sessions is the most one call backfills
_SESSION_MINUTES = 375  # 09:15-15:30


@dataclass
class RepairReport:
    symbol: str
    broker: str
    missing: int = 0  # in-session minutes without a market-data bar, before
    spans: list[tuple[int, int]] = field(default_factory=list)  # what was asked for, [start, end) ms
    requests: int = 0
    fetched: int = 0
    written: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # rows skipped
    errors: list[str] = field(default_factory=list)  # spans the broker failed (the others are still stored)

    @property
    def still_missing(self) -> int:
        return self.missing - self.written


class HistoryRepair:
    def __init__(
        self,
        history: BrokerHistory,
        candles: CandleRepository,
        clock: Clock,
        calendar: NseCalendar | None = None,
        merge_gap_ms: int = 15 * MINUTE_MS,
    ) -> None:
        self._history, self._candles, self._clock = history, candles, clock
        self._calendar = calendar or default_calendar()
        self._merge_gap_ms = (
            merge_gap_ms  # stretches closer than this go in one request (fewer, at 3 a second)
        )

    # which minutes
    def sessions(self, count: int) -> list[date]:
        """The last ``count`` trading days whose session has begun by now, oldest first."""
        if not 1 <= count <= MAX_SESSIONS:
            raise ValueError(f"sessions must be between 1 and {MAX_SESSIONS}, got {count}")
        now = ist_from_ms(self._clock.now_ms())
        day = now.date() if now.time() >= OPEN else now.date() - timedelta(days=1)
        day = self._calendar.previous_trading_day(day)
        out = [day]
        while len(out) < count:
            day = self._calendar.previous_trading_day(day - timedelta(days=1))
            out.append(day)
        return out[::-1]

    def session_span(self, day: date) -> tuple[int, int]:
        """A trading day's session as ``[09:15, 15:30)`` IST in epoch ms."""
        return _ist_ms(day, OPEN.hour, OPEN.minute), _ist_ms(day, CLOSE.hour, CLOSE.minute)

    def missing_minutes(self, symbol: str, start_ms: int, end_ms: int) -> list[int]:
        """Closed in-session minutes in ``[start_ms, end_ms)`` with no stored market-data 1m bar."""
        end_ms = min(end_ms, self._clock.now_ms() // MINUTE_MS * MINUTE_MS)  # not the forming minute
        out: list[int] = []
        if end_ms <= start_ms:
            return out
        day, last = ist_from_ms(start_ms).date(), ist_from_ms(end_ms - 1).date()
        while day <= last:
            if self._calendar.is_trading_day(day):
                open_ms, close_ms = self.session_span(day)
                lo = max(open_ms, -(-start_ms // MINUTE_MS) * MINUTE_MS)
                hi = min(close_ms, end_ms)
                if lo < hi:
                    held = self._held(symbol, lo, hi)
                    out.extend(m for m in range(lo, hi, MINUTE_MS) if m not in held)
            day += timedelta(days=1)
        return out

    def _held(self, symbol: str, lo: int, hi: int) -> set[int]:
        rows = self._candles.range(symbol, TF, lo, hi - 1, _SESSION_MINUTES + 1)
        return {c.start_ms for c in rows if not c.is_demo}

    def spans(self, minutes: Iterable[int]) -> list[tuple[int, int]]:
        """Runs of minutes as ``[start, end)`` spans; runs with a hole of at most ``merge_gap_ms`` are joined."""
        out: list[tuple[int, int]] = []
        for m in sorted(set(minutes)):
            if out and m - out[-1][1] <= self._merge_gap_ms:
                out[-1] = (out[-1][0], m + MINUTE_MS)
            else:
                out.append((m, m + MINUTE_MS))
        return out

    # doing it
    def backfill(self, instrument: Instrument, sessions: int) -> RepairReport:
        days = self.sessions(sessions)
        return self.repair(instrument, self.session_span(days[0])[0], self.session_span(days[-1])[1])

    def repair(self, instrument: Instrument, start_ms: int, end_ms: int) -> RepairReport:
        report = RepairReport(instrument.symbol, self._history.name)
        missing = self.missing_minutes(instrument.symbol, start_ms, end_ms)
        report.missing = len(missing)
        report.spans = self.spans(missing)
        wanted = set(missing)
        for s, e in report.spans:
            try:
                got = self._history.fetch(instrument, TF, s, e)
            except BrokerHistoryError as exc:  # one failed stretch never loses the others
                report.errors.append(str(exc))
                log.error("history repair of %s: %s", instrument.symbol, exc)
                continue
            report.requests += got.requests
            report.fetched += len(got.candles)
            report.problems.extend(got.problems)
            report.written += self._store([c for c in got.candles if c.start_ms in wanted])
        log.info(
            "history repair of %s from %s: %d minutes missing, %d written in %d requests",
            instrument.symbol,
            report.broker,
            report.missing,
            report.written,
            report.requests,
        )
        return report

    def _store(self, candles: list[Candle]) -> int:
        """Write the broker's bars, except where a market-data bar has appeared meanwhile (the live feed)."""
        if not candles:
            return 0
        now = self._candles.get_many((c.symbol, c.timeframe, c.start_ms) for c in candles)
        fresh = [
            c
            for c in candles
            if (held := now.get((c.symbol, c.timeframe, c.start_ms))) is None or held.is_demo
        ]
        self._candles.put_many(fresh)
        return len(fresh)


def _ist_ms(day: date, hh: int, mm: int) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST).timestamp() * 1000)
