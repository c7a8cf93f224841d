"""Quiet hours in IST, with windows that wrap past midnight (22:00-07:00)."""

from __future__ import annotations

from datetime import time

from mantra.clock import ist_from_ms
from mantra.domain import Preferences


def parse_hhmm(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def in_quiet_hours(prefs: Preferences, ts_ms: int) -> bool:
    if not prefs.quiet_start or not prefs.quiet_end:
        return False
    start, end, now = parse_hhmm(prefs.quiet_start), parse_hhmm(prefs.quiet_end), ist_from_ms(ts_ms).time()
    if start == end:
        return False
    return start <= now < end if start < end else (now >= start or now < end)
