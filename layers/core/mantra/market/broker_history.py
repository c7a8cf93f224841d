"""Intraday history from a broker's own history API, behind one port.

``BrokerHistory.fetch(instrument, timeframe, start_ms, end_ms)`` answers the candles starting in
``[start_ms, end_ms)``, oldest first, as ``Candle``s with ``source = BROKER_HISTORY_SOURCE``. The adapters
(``mantra.feed.providers.history``: Kite Connect, Angel One SmartAPI, through their SDKs) share what is here:

* ``chunks``: a span cut into requests no longer than the API's per-request day limit for the interval;
* ``Pacer``: requests spaced within the API's published rate limits (several windows: per second, per
  minute, ...), on an injected monotonic clock and sleeper so unit tests never sleep;
* ``with_retries``: a rate-limited or transient answer retried with exponential backoff, anything else raised;
* ``to_paise`` / ``broker_candle``: rupees to integer paise exactly (through ``Decimal``, never float
  arithmetic) and the bar's IST timestamp to epoch ms UTC; a bad row is reported and skipped, its neighbours
  are kept.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol, TypeVar

from mantra.clock import IST
from mantra.domain import Candle, Instrument
from mantra.market.timeframes import bucket_start_ms, validate_timeframe

log = logging.getLogger(__name__)

T = TypeVar("T")

# the source names are listed on ``Candle.source``; a broker's history bar is its own kind of market data
BROKER_HISTORY_SOURCE = "broker_history"
DAY_MS = 86_400_000


class BrokerHistoryError(Exception):
    """The broker refused or failed a history request in a way a retry will not fix."""


class RateLimited(BrokerHistoryError):
    """The broker said "too many requests" (HTTP 429 or its own code): wait and ask again."""


class Transient(BrokerHistoryError):
    """A network failure or a broker-side "try again later": worth a retry with backoff."""


class BrokerHistory(Protocol):
    name: str

    def fetch(self, instrument: Instrument, timeframe: str, start_ms: int, end_ms: int) -> HistoryResult:
        """The broker's candles starting in ``[start_ms, end_ms)``, oldest first."""
        ...


@dataclass(frozen=True)
class RowProblem:
    broker: str
    symbol: str
    row: str
    why: str

    def __str__(self) -> str:
        return f"{self.broker} {self.symbol}: {self.why} in row {self.row}"


@dataclass
class HistoryResult:
    candles: list[Candle] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    requests: int = 0  # HTTP requests made, retries included


# chunking
def chunks(start_ms: int, end_ms: int, max_days: int) -> list[tuple[int, int]]:
    """``[start_ms, end_ms)`` as consecutive half-open spans of at most ``max_days`` days each."""
    if max_days <= 0:
        raise ValueError("max_days must be positive")
    width = max_days * DAY_MS
    return [(s, min(s + width, end_ms)) for s in range(start_ms, end_ms, width)]


def ist_text(ms: int, seconds: bool) -> str:
    """The brokers' request time format: IST wall time, ``YYYY-MM-DD HH:MM[:SS]``."""
    return datetime.fromtimestamp(ms / 1000, tz=IST).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


# pacing
@dataclass(frozen=True)
class RateLimit:
    requests: int
    per_s: float


class Pacer:
    """Waits before a request until every window has room: at most ``requests`` starts in any ``per_s``."""

    def __init__(
        self,
        limits: Sequence[RateLimit],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limits = tuple(limits)
        self._monotonic, self._sleep = monotonic, sleep
        self._starts: deque[float] = deque(maxlen=max((lim.requests for lim in self._limits), default=1))
        self._lock = threading.Lock()

    def call(self, request: Callable[[], T]) -> T:
        """``request()`` once every window has room. The request is counted at the moment its answer came
        back: the broker counts it on arrival, somewhere between sending and answering, so counting from the
        answer never lets a later request land inside the broker's window early."""
        with self._lock:  # one history client may be shared by threads: pace them together
            self._wait()
            try:
                return request()
            finally:
                self._starts.append(self._monotonic())

    def wait(self) -> None:
        """Wait for room and count a request now (for callers that send it themselves)."""
        with self._lock:
            self._wait()
            self._starts.append(self._monotonic())

    def _wait(self) -> None:
        while True:
            delay = max((self._room_in(lim, self._monotonic()) for lim in self._limits), default=0.0)
            if delay <= 0:
                return
            self._sleep(delay)

    def _room_in(self, lim: RateLimit, now: float) -> float:
        """Seconds until this window allows one more start (0: now)."""
        recent = [t for t in self._starts if now - t < lim.per_s]
        if len(recent) < lim.requests:
            return 0.0
        return recent[-lim.requests] + lim.per_s - now


# retries
@dataclass(frozen=True)
class Retry:
    attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 30.0

    def delay_s(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * 2 ** (attempt - 1))


def with_retries(
    call: Callable[[], T], policy: Retry, sleep: Callable[[float], None], what: str
) -> tuple[T, int]:
    """``call()`` and the number of attempts it took; ``RateLimited``/``Transient`` are retried with backoff
    until ``policy.attempts`` is used up, anything else is raised at once."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return call(), attempt
        except (RateLimited, Transient) as exc:
            if attempt >= policy.attempts:
                raise BrokerHistoryError(f"{what}: gave up after {attempt} attempts ({exc})") from exc
            delay = policy.delay_s(attempt)
            log.warning("%s: %s; retry %d in %.1fs", what, exc, attempt, delay)
            sleep(delay)


# conversion
def to_paise(rupees: object) -> int:
    """Rupees (a JSON number as the SDK parsed it, or its text) -> integer paise, half away from zero.
    ``str()`` of a parsed float is the shortest text that reads back as it, i.e. the number the JSON held."""
    if isinstance(rupees, bool) or not isinstance(rupees, int | float | str | Decimal):
        raise ValueError(f"price {rupees!r} is not a number")
    try:
        value = Decimal(str(rupees))
    except InvalidOperation:
        raise ValueError(f"price {rupees!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"price {rupees!r} is not finite")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_utc_ms(when: object) -> int:
    """A bar time with its offset (``2024-01-01T09:15:00+05:30``, Kite's ``+0530``, or an aware datetime)
    -> epoch ms UTC; a time without an offset is refused rather than guessed."""
    if isinstance(when, str):
        text = when.strip()
        if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():  # Kite's +0530 -> +05:30
            text = f"{text[:-2]}:{text[-2:]}"
        when = datetime.fromisoformat(text)
    if not isinstance(when, datetime):
        raise ValueError(f"time {when!r} is not a timestamp")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} has no UTC offset")
    return round(when.timestamp() * 1000)


def broker_candle(symbol: str, timeframe: str, row: Sequence[object]) -> Candle:
    """``[time, open, high, low, close, volume(, oi)]`` -> a broker-history ``Candle``; ValueError says what
    is wrong with the row."""
    if len(row) < 6:
        raise ValueError(f"{len(row)} fields, want time, open, high, low, close, volume")
    start = to_utc_ms(row[0])
    o, h, lo, c = (to_paise(x) for x in row[1:5])
    vol = row[5]
    if isinstance(vol, bool) or not isinstance(vol, int | float) or not math.isfinite(vol) or vol < 0:
        raise ValueError(f"volume {vol!r} is not a count")
    if min(o, h, lo, c) <= 0:
        raise ValueError("a price is not positive")
    if not lo <= min(o, c) <= max(o, c) <= h:
        raise ValueError("high/low do not bound open and close")
    if bucket_start_ms(start, timeframe) != start:
        raise ValueError(f"bar time {row[0]!r} is not on a {timeframe} boundary")
    return Candle(
        symbol=symbol,
        timeframe=timeframe,
        start_ms=start,
        open_paise=o,
        high_paise=h,
        low_paise=lo,
        close_paise=c,
        volume=int(vol),
        ticks=0,  # the APIs give no trade count
        first_tick_ms=start,
        last_tick_ms=start,
        source=BROKER_HISTORY_SOURCE,
    )


def parse_rows(
    broker: str, symbol: str, timeframe: str, rows: object, start_ms: int, end_ms: int
) -> tuple[list[Candle], list[RowProblem]]:
    """Every good row in ``[start_ms, end_ms)`` as a candle; each bad one as a problem (never an exception)."""
    if rows is None:
        return [], []
    if not isinstance(rows, list):
        return [], [RowProblem(broker, symbol, repr(rows)[:80], "candles are not a list")]
    out: list[Candle] = []
    problems: list[RowProblem] = []
    for row in rows:
        try:
            if not isinstance(row, list | tuple):
                raise ValueError("not a list")
            candle = broker_candle(symbol, timeframe, row)
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(RowProblem(broker, symbol, repr(row)[:120], str(exc)))
            continue
        if start_ms <= candle.start_ms < end_ms:
            out.append(candle)
    return out, problems


def check_span(timeframe: str, start_ms: int, end_ms: int) -> None:
    validate_timeframe(timeframe)
    if end_ms <= start_ms:
        raise ValueError(f"empty span: end {end_ms} is not after start {start_ms}")
