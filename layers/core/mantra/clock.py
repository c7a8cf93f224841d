"""Time is UTC inside; IST (Asia/Kolkata) only where sessions are concerned. Clocks are passed in."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ist_from_ms(ms: int) -> datetime:
    return utc_from_ms(ms).astimezone(IST)
