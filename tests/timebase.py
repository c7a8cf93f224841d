"""The one moment every suite runs at, and the dates fixtures are built from.

``MANTRA_TEST_NOW`` (ISO 8601 with an offset) names it; CI runs the suites once with it set years ahead while
every process's wall clock is moved to the same moment (``make test-future``). Unset, it is the wall clock at
start. Fixtures never name a calendar date: they take a day relative to ``NOW_MS`` from here.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta

from mantra.clock import IST, ManualClock, SystemClock, ist_from_ms, parse_instant
from mantra.market.calendar import default_calendar

_ENV = os.environ.get("MANTRA_TEST_NOW")
NOW_MS: int = parse_instant(_ENV) if _ENV else SystemClock().now_ms()
TODAY: date = ist_from_ms(NOW_MS).date()


def ist_ms(day: date, hh: int = 0, mm: int = 0, ss: int = 0) -> int:
    return int(datetime.combine(day, time(hh, mm, ss), tzinfo=IST).timestamp() * 1000)


def trading_monday(after: date = TODAY) -> date:
    """The first Monday strictly after ``after`` whose whole week (Mon-Fri) trades on the NSE calendar: a
    session day with a normal trading day before and after it, whatever date the suite runs on."""
    cal = default_calendar()
    d = after + timedelta(days=7 - after.weekday())
    while not all(cal.is_trading_day(d + timedelta(days=i)) for i in range(5)):
        d += timedelta(days=7)
    return d


SESSION_DAY: date = trading_monday()
SESSION_10AM: int = ist_ms(SESSION_DAY, 10, 0)


def clock(now_ms: int = NOW_MS) -> ManualClock:
    """The suites' one fake clock, at the suite's moment unless told otherwise."""
    return ManualClock(now_ms)
