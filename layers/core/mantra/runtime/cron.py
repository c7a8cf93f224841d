"""EventBridge cron expressions (minutes hours day-of-month month day-of-week year), evaluated in a time zone.

The local runtime fires the catalog's schedules with this, at the times EventBridge Scheduler would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
# EventBridge numbers days 1=SUN..7=SAT; Python's weekday() is 0=MON..6=SUN.
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}


class CronError(ValueError):
    pass


def _value(token: str, names: dict[str, int]) -> int:
    token = token.upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise CronError(f"not a number or name: {token!r}")
    return int(token)


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """None means "any" (* or ?)."""
    names = names or {}
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        stepped = "/" in part
        if stepped:
            part, step_s = part.split("/", 1)
            step = int(step_s)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if stepped else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise CronError(f"{part!r} is outside {lo}-{hi}")
        out.update(range(start, end + 1, step))
    return frozenset(out)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None
    tz: ZoneInfo

    @classmethod
    def parse(cls, expression: str, timezone: str) -> Cron:
        fields = expression.split()
        if len(fields) != 6:
            raise CronError(
                f"expected 6 fields (min hour dom month dow year), got {len(fields)}: {expression!r}"
            )
        m, h, dom, mon, dow, _year = fields
        return cls(
            _field(m, 0, 59),
            _field(h, 0, 23),
            _field(dom, 1, 31),
            _field(mon, 1, 12, _MONTHS),
            _field(dow, 1, 7, _DAYS),
            ZoneInfo(timezone),
        )

    def matches(self, t: datetime) -> bool:
        local = t.astimezone(self.tz)
        eb_weekday = (local.weekday() + 1) % 7 + 1  # MON=2 .. SUN=1
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.minutes, local.minute),
                (self.hours, local.hour),
                (self.days, local.day),
                (self.months, local.month),
                (self.weekdays, eb_weekday),
            )
        )

    def next_after(self, t: datetime, horizon_days: int = 366) -> datetime:
        candidate = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = t + timedelta(days=horizon_days)
        while candidate <= end:
            if self.matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        raise CronError("no time matches within a year")
