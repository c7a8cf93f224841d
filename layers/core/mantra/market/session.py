"""NSE's normal session in IST: 09:15 to 15:30 on trading days (weekdays that are not exchange holidays).

The holidays and the pre-open phases live in ``mantra.market.calendar``; this keeps the one-call check.
"""

from __future__ import annotations

from mantra.market.calendar import CLOSE, OPEN, default_calendar

__all__ = ["CLOSE", "OPEN", "in_session"]


def in_session(ts_ms: int) -> bool:
    return default_calendar().in_session(ts_ms)
