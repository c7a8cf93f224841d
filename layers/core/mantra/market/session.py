"""NSE's normal session in IST: Monday to Friday, 09:15 to 15:30 (exchange holidays come with the calendar)."""

from __future__ import annotations

from datetime import time

from mantra.clock import ist_from_ms

OPEN, CLOSE = time(9, 15), time(15, 30)


def in_session(ts_ms: int) -> bool:
    t = ist_from_ms(ts_ms)
    return t.weekday() < 5 and OPEN <= t.time() < CLOSE
