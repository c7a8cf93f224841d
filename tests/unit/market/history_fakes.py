"""Fakes for the broker-history tests: the two SDK clients answering from one made-up market, in the brokers'
own wire shapes (rows decoded from JSON text, so prices are the floats the SDKs hand out), and a fake time
whose sleeps move its monotonic clock (nothing really sleeps)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from mantra.clock import IST
from mantra.domain import Instrument
from mantra.market.calendar import default_calendar

_CORE = str(Path(__file__).resolve().parents[1] / "core")
if _CORE not in sys.path:
    sys.path.insert(0, _CORE)

from core_fakes import InMemoryCandles  # noqa: E402  (the suites' one in-memory candle store)

__all__ = ["InMemoryCandles"]

MINUTE = 60_000
SBIN = Instrument(
    symbol="SBIN",
    token="3045",
    exchange="NSE",
    name="STATE BANK OF INDIA",
    instrument_type="EQ",
    broker_tokens={"kite": "779521", "angel": "3045"},
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def price_text(minute_ms: int) -> str:
    """A price in rupees with paise, as the JSON carries it; varies by minute (tick size 0.05)."""
    n = (minute_ms // MINUTE) % 97
    return f"{812 + n // 20}.{(n * 5) % 100:02d}"


def paise_of(minute_ms: int) -> int:
    rupees, _, paise = price_text(minute_ms).partition(".")
    return int(rupees) * 100 + int(paise)


def market_rows(
    first_ms: int,
    last_ms: int,
    step_ms: int,
    kite_offset: bool,
    skip: set[int] = frozenset(),  # type: ignore[assignment]
) -> list[Any]:
    """The broker's rows for bars starting in ``[first_ms, last_ms]`` (inclusive, as the APIs are), only in
    sessions of trading days; ``skip``: minutes with no trade (no bar)."""
    cal = default_calendar()
    rows = []
    day = datetime.fromtimestamp(first_ms / 1000, tz=IST).date()
    while (open_ms := _ist(day, 9, 15)) <= last_ms:
        if cal.is_trading_day(day):
            t = max(open_ms, open_ms + -(-(first_ms - open_ms) // step_ms) * step_ms)
            while t <= last_ms and t < _ist(day, 15, 30):
                if t not in skip:
                    stamp = datetime.fromtimestamp(t / 1000, tz=IST).strftime("%Y-%m-%dT%H:%M:%S")
                    p = price_text(t)
                    vol = 100 + (t // MINUTE) % 13
                    rows.append(
                        f'["{stamp}{"+0530" if kite_offset else "+05:30"}", {p}, {p}, {p}, {p}, {vol}]'
                    )
                t += step_ms
        day += timedelta(days=1)
    return json.loads("[" + ",".join(rows) + "]")  # type: ignore[no-any-return]


def _ist(day: date, hh: int, mm: int) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST).timestamp() * 1000)


def parse_ist(text: str) -> int:
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return int(datetime.strptime(text, fmt).replace(tzinfo=IST).timestamp() * 1000)


STEP = {"minute": MINUTE, "ONE_MINUTE": MINUTE, "5minute": 5 * MINUTE, "FIVE_MINUTE": 5 * MINUTE}


class FakeKite:
    """``historical_data`` as ``_RawKite`` returns it: the rows of ``data.candles``. ``failures`` are raised, in
    order, before answering."""

    def __init__(self, time: FakeTime | None = None, skip: set[int] | None = None) -> None:
        self.calls: list[tuple[int, str, str, str, float]] = []
        self.failures: list[Exception] = []
        self.time = time
        self.skip = skip or set()
        self.rows: Callable[[int, int, int], list[Any]] | None = None

    def historical_data(
        self, instrument_token: int, from_date: str, to_date: str, interval: str, continuous: bool = False,
        oi: bool = False,
    ) -> Any:  # fmt: skip
        self.calls.append(
            (instrument_token, from_date, to_date, interval, self.time.now if self.time else 0.0)
        )
        if self.failures:
            raise self.failures.pop(0)
        first, last = parse_ist(from_date), parse_ist(to_date)
        if self.rows is not None:
            return self.rows(first, last, STEP[interval])
        return market_rows(first, last, STEP[interval], kite_offset=True, skip=self.skip)


class FakeAngel:
    """``getCandleData`` as SmartConnect returns it: the whole decoded answer. ``answers`` (dicts) or
    exceptions are used, in order, before the market's answer."""

    def __init__(self, time: FakeTime | None = None, skip: set[int] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answers: list[Any] = []
        self.time = time
        self.skip = skip or set()

    def getCandleData(self, historicDataParams: dict[str, Any]) -> Any:  # noqa: N802, N803
        self.calls.append(dict(historicDataParams))
        if self.answers:
            a = self.answers.pop(0)
            if isinstance(a, Exception):
                raise a
            return a
        p = historicDataParams
        rows = market_rows(
            parse_ist(p["fromdate"]), parse_ist(p["todate"]), STEP[p["interval"]], kite_offset=False,
            skip=self.skip,
        )  # fmt: skip
        return {"status": True, "message": "SUCCESS", "errorcode": "", "data": rows}


def trading_days_before(day: date, n: int) -> list[date]:
    cal = default_calendar()
    out: list[date] = []
    d = day
    while len(out) < n:
        d -= timedelta(days=1)
        if cal.is_trading_day(d):
            out.append(d)
    return out[::-1]
