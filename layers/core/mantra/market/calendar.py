"""The NSE calendar in IST: trading days, session phases, special sessions and index derivative expiries.

Everything that changes over time is data (``mantra/data/nse_holidays.json``): the holiday table (2015 on), the
special sessions and the dated expiry rules (NSE moved NIFTY's weekly expiry from Thursday to Tuesday on 1 Sep
2025, discontinued the BANKNIFTY/FINNIFTY weeklies in Nov 2024, ...), so past and future dates both come out
right and a new year's holiday circular is a data change. An expiry that falls on a holiday moves to the previous
trading day: never onto a Muhurat evening, but onto a weekend session (NSE moved MIDCPNIFTY's 22 Jan 2024 expiry
to the full Saturday session of 20 Jan).

Special sessions are of two kinds. A *weekend* session (the Budget-day Saturday, a DR-drill Saturday) is a trading
day with its own windows. A *Muhurat* session is Diwali's one-hour evening: the day stays a holiday (or weekend)
for ``is_trading_day`` and the day-count arithmetic, but ``phase`` is OPEN inside its window.
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

from mantra.clock import IST, ist_from_ms

PRE_OPEN = time(9, 0)  # order entry 09:00-09:08
PRE_OPEN_MATCH = time(9, 8)  # order matching and buffer 09:08-09:15
OPEN = time(9, 15)
CLOSE = time(15, 30)
# every session (Muhurat and DR-site windows too) has the same pre-open ahead of its open: 15 and 7 minutes
_PRE_OPEN_LEAD = 15 * 60
_MATCH_LEAD = 7 * 60


class Phase(StrEnum):
    CLOSED = "closed"
    PRE_OPEN = "pre_open"  # order entry, modification, cancellation
    PRE_OPEN_MATCHING = "pre_open_matching"  # order matching, then the buffer to the normal open
    OPEN = "open"


class SessionKind(StrEnum):
    MUHURAT = "muhurat"  # Diwali's evening session on a holiday or weekend: not a trading day
    WEEKEND = "weekend"  # a Saturday/Sunday the exchange opened (Union Budget, DR drill): a trading day


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """One continuous-trading window in IST, ``open <= t < close``; its pre-open runs just before it."""

    open: time
    close: time

    def phase(self, now: time) -> Phase | None:
        if self.open <= now < self.close:
            return Phase.OPEN
        before = _seconds(self.open) - _seconds(now)  # seconds until this window opens
        if _MATCH_LEAD < before <= _PRE_OPEN_LEAD:
            return Phase.PRE_OPEN
        if 0 < before <= _MATCH_LEAD:
            return Phase.PRE_OPEN_MATCHING
        return None


NORMAL_SESSION = (SessionWindow(OPEN, CLOSE),)


@dataclass(frozen=True, slots=True)
class SpecialSession:
    date: _dt.date
    name: str
    kind: SessionKind
    windows: tuple[SessionWindow, ...]  # ascending, not overlapping
    provisional: bool = False  # announced without its final timing

    @property
    def open(self) -> time:
        return self.windows[0].open

    @property
    def close(self) -> time:
        return self.windows[-1].close

    def bounds_ms(self) -> tuple[int, int]:
        """The session's first open and last close as UTC epoch ms."""
        return _ist_ms(self.date, self.open), _ist_ms(self.date, self.close)


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

    def __init__(
        self,
        holidays: dict[date, str],
        rules: dict[str, tuple[ExpiryRule, ...]],
        special_sessions: dict[date, SpecialSession] | None = None,
    ) -> None:
        self.holidays = dict(holidays)
        self.rules = dict(rules)
        self.special_sessions = dict(special_sessions or {})

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> NseCalendar:
        holidays: dict[date, str] = {}
        for i, h in enumerate(data["holidays"]):
            d = _parse_date(h.get("date"), f"holidays[{i}].date")
            if d in holidays:
                raise ValueError(f"holidays[{i}]: {d} is listed twice")
            if not str(h.get("name") or "").strip():
                raise ValueError(f"holidays[{i}] ({d}): no name")
            holidays[d] = str(h["name"])
        specials: dict[date, SpecialSession] = {}
        for i, raw in enumerate(data.get("special_sessions", [])):
            session = _parse_special(raw, f"special_sessions[{i}]", holidays)
            if session.date in specials:
                raise ValueError(f"special_sessions[{i}]: {session.date} is listed twice")
            specials[session.date] = session
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
        return cls(holidays, rules, specials)

    # days and sessions
    def is_holiday(self, d: date) -> bool:
        return d in self.holidays

    def is_trading_day(self, d: date) -> bool:
        """A weekday that is not a holiday, or a weekend special session; a Muhurat-only day is not."""
        special = self.special_sessions.get(d)
        if special is not None:
            return special.kind is SessionKind.WEEKEND
        return self._is_regular_day(d)

    def _is_regular_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def special_session(self, d: date) -> SpecialSession | None:
        """The day's Muhurat or weekend session, if it has one."""
        return self.special_sessions.get(d)

    def sessions(self, d: date) -> tuple[SessionWindow, ...]:
        """The day's trading windows in IST: the normal one, a special session's, or none."""
        special = self.special_sessions.get(d)
        if special is not None:
            return special.windows
        return NORMAL_SESSION if self._is_regular_day(d) else ()

    def trading_days(self, start: date, end: date) -> list[date]:
        """Every trading day with ``start <= d <= end``."""
        days = (start + timedelta(days=n) for n in range((end - start).days + 1))
        return [d for d in days if self.is_trading_day(d)]

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
        now = t.time()
        for window in self.sessions(t.date()):
            phase = window.phase(now)
            if phase is not None:
                return phase
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


def _seconds(t: time) -> int:
    return (t.hour * 60 + t.minute) * 60 + t.second


def _ist_ms(d: date, t: time) -> int:
    return int(datetime.combine(d, t, tzinfo=IST).timestamp() * 1000)


def _parse_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_time(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a time of day (HH:MM, IST)") from None


def _parse_special(raw: dict[str, Any], where: str, holidays: dict[date, str]) -> SpecialSession:
    """One ``special_sessions`` record, checked; the error names the record and the field."""
    d = _parse_date(raw.get("date"), f"{where}.date")
    try:
        kind = SessionKind(str(raw.get("kind")))
    except ValueError:
        known = ", ".join(k.value for k in SessionKind)
        raise ValueError(f"{where} ({d}): kind {raw.get('kind')!r} is not one of {known}") from None
    # one window as "open"/"close", or several (a DR-site switch) as "windows"
    items = raw["windows"] if "windows" in raw else [{"open": raw.get("open"), "close": raw.get("close")}]
    windows: list[SessionWindow] = []
    for j, w in enumerate(items):
        at = f"{where}.windows[{j}]" if "windows" in raw else where
        opens, closes = _parse_time(w.get("open"), f"{at}.open"), _parse_time(w.get("close"), f"{at}.close")
        if closes <= opens:
            raise ValueError(f"{at} ({d}): close {closes} is not after open {opens}")
        if windows and opens < windows[-1].close:
            raise ValueError(f"{at} ({d}): window opening {opens} overlaps the one before it")
        windows.append(SessionWindow(opens, closes))
    if not windows:
        raise ValueError(f"{where} ({d}): no session windows")
    weekend = d.weekday() >= 5
    if kind is SessionKind.WEEKEND and not weekend:
        raise ValueError(f"{where} ({d}): a weekend session on a {d:%A}")
    if kind is SessionKind.MUHURAT and not (weekend or d in holidays):
        raise ValueError(
            f"{where} ({d}): a Muhurat session on a normal trading day; list the day as a holiday"
        )
    return SpecialSession(d, str(raw.get("name", "")), kind, tuple(windows), bool(raw.get("provisional")))


@lru_cache(maxsize=1)
def default_calendar() -> NseCalendar:
    raw = resources.files("mantra.data").joinpath("nse_holidays.json").read_text()
    return NseCalendar.from_data(json.loads(raw))


def is_trading_day(d: date) -> bool:
    """The helper scheduled handlers call: does NSE trade on this IST date?"""
    return default_calendar().is_trading_day(d)
