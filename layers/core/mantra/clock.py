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


class ManualClock:
    """A clock that moves only when told: replays, simulations and tests (one class for all of them)."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def set(self, now_ms: int) -> None:
        self.now = now_ms

    def advance(self, ms: int) -> None:
        self.now += ms

    def advance_s(self, seconds: float) -> None:
        self.now += round(seconds * 1000)


class OffsetClock:
    """The system clock moved by a fixed offset: a run that must see 'now' as some other moment."""

    def __init__(self, offset_ms: int) -> None:
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


def parse_instant(text: str) -> int:
    """ISO 8601 with an explicit offset (``2031-03-15T22:50:00+00:00``) -> epoch ms; a naive time is refused."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; write it as e.g. 2031-03-15T22:50:00+00:00")
    return int(moment.timestamp() * 1000)
