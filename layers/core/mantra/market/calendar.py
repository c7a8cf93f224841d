"""The NSE calendar in IST: trading days, session phases and index derivative expiries.

Everything that changes over time is data (``mantra/data/nse_holidays.json``): the holiday table and the dated
expiry rules (NSE moved NIFTY's weekly expiry from Thursday to Tuesday on 1 Sep 2025, discontinued the
BANKNIFTY/FINNIFTY weeklies in Nov 2024, ...), so past and future dates both come out right and a new year's
holiday circular is a data change. An expiry that falls on a holiday moves to the previous trading day.
"""

from __future__ import annotations

import calendar as _cal
import datetime as _dt
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

from mantra.clock import ist_from_ms

PRE_OPEN = time(9, 0)  # order entry 09:00-09:08
PRE_OPEN_MATCH = time(9, 8)  # order matching and buffer 09:08-09:15
OPEN = time(9, 15)
CLOSE = time(15, 30)


class Phase(StrEnum):
    CLOSED = "closed"
    PRE_OPEN = "pre_open"  # order entry, modification, cancellation
    PRE_OPEN_MATCHING = "pre_open_matching"  # order matching, then the buffer to the normal open
    OPEN = "open"


class ExpiryKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    kind: ExpiryKind
    weekday: int  # 0 = Monday
    start: date
    end: date | None

    def covers(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)


@dataclass(frozen=True, slots=True)
class Expiry:
    underlying: str
    date: _dt.date
    kind: ExpiryKind  # a week's expiry that is also the month's is MONTHLY
    scheduled: _dt.date  # the rule's day before any holiday shift

    @property
    def shifted(self) -> bool:
        return self.date != self.scheduled


class NseCalendar:
    """Pure: built from the data, no clock. ``default_calendar()`` loads the bundled file once."""

    def __init__(self, holidays: dict[date, str], rules: dict[str, tuple[ExpiryRule, ...]]) -> None:
        self.holidays = dict(holidays)
        self.rules = dict(rules)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> NseCalendar:
        holidays = {date.fromisoformat(h["date"]): str(h["name"]) for h in data["holidays"]}
        rules: dict[str, tuple[ExpiryRule, ...]] = {}
        for underlying, items in data.get("expiry_rules", {}).items():
            if underlying.startswith("_"):
                continue
            rules[underlying.upper()] = tuple(
                ExpiryRule(
                    kind=ExpiryKind(r["kind"]),
                    weekday=int(r["weekday"]),
                    start=date.fromisoformat(r["from"]),
                    end=None if r.get("to") is None else date.fromisoformat(r["to"]),
                )
                for r in items
            )
        return cls(holidays, rules)

    # days and sessions
    def is_holiday(self, d: date) -> bool:
        return d in self.holidays

    def is_trading_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def previous_trading_day(self, d: date) -> date:
        """``d`` itself when it trades, else the closest earlier trading day."""
        while not self.is_trading_day(d):
            d -= timedelta(days=1)
        return d

    def next_trading_day(self, d: date) -> date:
        """The first trading day strictly after ``d``."""
        d += timedelta(days=1)
        while not self.is_trading_day(d):
            d += timedelta(days=1)
        return d

    def phase(self, ts_ms: int) -> Phase:
        t = ist_from_ms(ts_ms)
        if not self.is_trading_day(t.date()):
            return Phase.CLOSED
        now = t.time()
        if OPEN <= now < CLOSE:
            return Phase.OPEN
        if PRE_OPEN <= now < PRE_OPEN_MATCH:
            return Phase.PRE_OPEN
        if PRE_OPEN_MATCH <= now < OPEN:
            return Phase.PRE_OPEN_MATCHING
        return Phase.CLOSED

    def in_session(self, ts_ms: int) -> bool:
        return self.phase(ts_ms) is Phase.OPEN

    def is_trading_time(self, when: datetime) -> bool:
        return self.in_session(int(when.timestamp() * 1000))

    # expiries
    def _rule(self, underlying: str, kind: ExpiryKind, d: date) -> ExpiryRule | None:
        return next((r for r in self.rules.get(underlying, ()) if r.kind is kind and r.covers(d)), None)

    def monthly_expiry(self, underlying: str, year: int, month: int) -> Expiry | None:
        """The month's expiry: the last rule weekday of the month, moved back over holidays."""
        underlying = self._known(underlying)
        last = date(year, month, _cal.monthrange(year, month)[1])
        for rule in self.rules[underlying]:
            if rule.kind is not ExpiryKind.MONTHLY:
                continue
            scheduled = last - timedelta(days=(last.weekday() - rule.weekday) % 7)
            if rule.covers(scheduled):
                return Expiry(underlying, self.previous_trading_day(scheduled), ExpiryKind.MONTHLY, scheduled)
        return None

    def expiries(self, underlying: str, start: date, end: date) -> list[Expiry]:
        """Every expiry (weekly and monthly) with ``start <= date <= end``, in date order."""
        underlying = self._known(underlying)
        out: dict[date, Expiry] = {}
        # monthly expiries of every month touched (plus one: a shift can pull next month's into range)
        y, m = start.year, start.month
        while date(y, m, 1) <= end + timedelta(days=7):
            e = self.monthly_expiry(underlying, y, m)
            if e is not None and start <= e.date <= end:
                out[e.date] = e
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        d = start - timedelta(days=start.weekday())  # the Monday of start's week
        while d <= end + timedelta(days=7):
            for weekday in range(7):
                scheduled = d + timedelta(days=weekday)
                rule = self._rule(underlying, ExpiryKind.WEEKLY, scheduled)
                if rule is None or rule.weekday != weekday:
                    continue
                actual = self.previous_trading_day(scheduled)
                if not (start <= actual <= end) or actual in out:
                    continue
                monthly = self.monthly_expiry(underlying, scheduled.year, scheduled.month)
                if monthly is not None and monthly.scheduled == scheduled:
                    continue  # that week's contract is the monthly one
                out[actual] = Expiry(underlying, actual, ExpiryKind.WEEKLY, scheduled)
            d += timedelta(days=7)
        return [out[k] for k in sorted(out)]

    def next_expiries(self, underlying: str, after: date, count: int = 2) -> list[Expiry]:
        """The next ``count`` expiries on or after ``after`` (an expiry day counts until it is over)."""
        found: list[Expiry] = []
        window = 35
        while len(found) < count and window < 800:
            found = self.expiries(underlying, after, after + timedelta(days=window))
            window *= 2
        return found[:count]

    def _known(self, underlying: str) -> str:
        u = underlying.upper()
        if u not in self.rules:
            raise ValueError(f"no expiry rules for {underlying!r}; known: {', '.join(sorted(self.rules))}")
        return u


@lru_cache(maxsize=1)
def default_calendar() -> NseCalendar:
    raw = resources.files("mantra.data").joinpath("nse_holidays.json").read_text()
    return NseCalendar.from_data(json.loads(raw))


def is_trading_day(d: date) -> bool:
    """The helper scheduled handlers call: does NSE trade on this IST date?"""
    return default_calendar().is_trading_day(d)
