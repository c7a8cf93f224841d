"""Corporate-action factors kept as data and applied on read.

The exchange's daily reports are not adjusted: on a split or bonus ex-date the close simply drops. Loading a
corporate-actions file turns each price-adjusting action (split, consolidation, bonus, rights) into a
``Factor``: the exact fraction the share count was multiplied by on its ex-date. Candles stay as traded in the
store; ``AdjustedCandles`` divides every price of a bar before an ex-date by the product of the later factors
and multiplies its volume, at read time, rounding half-even to whole paise once.

``as_of`` bounds the factors to what was known then: a read that ends on a date applies only actions whose
ex-date is on or before it, so a backtest or a past scan never sees an action announced later.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Protocol

from mantra.clock import Clock, ist_from_ms
from mantra.domain import Candle
from mantra.market.bar_cache import HistoryVersion
from mantra.market.nse.adjust import Schedule, divide_paise, unique_actions
from mantra.market.nse.corporate_actions import CorporateAction
from mantra.ports import CandleRepository

# the series an exchange symbol's other candle symbols carry as a suffix (``RELIANCE-BE``): a split applies to
# every series of the symbol
SERIES_SUFFIXES = frozenset(
    {"BE", "BL", "BZ", "BT", "GB", "GS", "IL", "IQ", "IT", "RL", "SM", "ST", "T0", "TL"}
)


@dataclass(frozen=True, slots=True)
class Factor:
    """The share count of ``symbol`` was multiplied by ``ratio`` on ``ex_date`` (a 1:1 bonus: 2)."""

    symbol: str
    ex_date: date
    ratio: Fraction
    purpose: str
    source: str


@dataclass(frozen=True, slots=True)
class Unapplied:
    """A price-adjusting action whose factor could not be computed, and why (reported, never guessed)."""

    action: CorporateAction
    reason: str


def exchange_symbol(candle_symbol: str) -> str:
    """``RELIANCE-BE`` -> ``RELIANCE``; ``BAJAJ-AUTO`` stays (AUTO is no series)."""
    base, _, suffix = candle_symbol.rpartition("-")
    return base if base and suffix in SERIES_SUFFIXES else candle_symbol


CumClose = Callable[[str, date], int | None]  # (symbol, ex_date) -> the close of the session before, paise


def factors_of(
    actions: Iterable[CorporateAction], cum_close: CumClose
) -> tuple[list[Factor], list[Unapplied]]:
    """One factor per price-adjusting action (an action listed for several series or days counts once).

    A rights factor needs the cum-rights price (``cum_close``: the close of the session before the ex-date,
    from stored history) and the face value (the history download has it, the daily bc file does not)."""
    factors: list[Factor] = []
    unapplied: list[Unapplied] = []
    for action in unique_actions(a for a in actions if a.adjusts_prices):
        if action.ex_date is None:
            unapplied.append(Unapplied(action, "no ex-date"))
            continue
        ratio = action.purpose.share_factor
        if action.rights is not None:
            if action.face_value_paise is None:
                unapplied.append(Unapplied(action, "a rights factor needs the face value (not in this file)"))
                continue
            cum = cum_close(action.symbol, action.ex_date)
            if cum is None:
                reason = f"a rights factor needs the close of the session before {action.ex_date}: not stored"
                unapplied.append(Unapplied(action, reason))
                continue
            ratio *= action.rights.factor(cum, action.face_value_paise)
        if ratio != 1:
            factors.append(Factor(action.symbol, action.ex_date, ratio, action.purpose.text, action.source))
    return factors, unapplied


def schedule_of(factors: Sequence[Factor]) -> Schedule:
    return Schedule.of((f.ex_date, f.ratio) for f in factors)


def adjust_candles(candles: Sequence[Candle], schedule: Schedule, as_of: date) -> list[Candle]:
    """``candles`` with prices divided and volumes multiplied by the factors of later actions known by
    ``as_of``; bars on or after the last applied ex-date are returned as they are."""
    known = schedule.until(as_of)
    if not known.ex_dates:
        return list(candles)
    out: list[Candle] = []
    for c in candles:
        f = known.factor(ist_from_ms(c.start_ms).date())
        if f == 1:
            out.append(c)
            continue
        out.append(
            c.model_copy(
                update={
                    "open_paise": divide_paise(c.open_paise, f),
                    "high_paise": divide_paise(c.high_paise, f),
                    "low_paise": divide_paise(c.low_paise, f),
                    "close_paise": divide_paise(c.close_paise, f),
                    "volume": round(c.volume * f),
                }
            )
        )
    return out


class FactorStore(Protocol):
    """Where factors are kept (``corporate_actions``): written once per action, read whole."""

    def put_many(self, factors: Sequence[Factor], now_ms: int) -> int: ...
    def all(self) -> list[Factor]: ...


class FactorBook:
    """Every symbol's schedule, read once per history version (a corporate-action load moves it) and checked
    against the version at most every ``recheck_s`` seconds, so a read costs no table request."""

    def __init__(
        self, store: FactorStore, version: HistoryVersion | None = None, recheck_s: float = 60.0
    ) -> None:
        self._store, self._version, self._recheck_s = store, version, recheck_s
        self._lock = threading.Lock()
        self._loaded: tuple[int | None, float, Mapping[str, Schedule]] | None = None
        self._by_symbol: Mapping[str, tuple[Factor, ...]] = {}

    def _factors(self) -> Mapping[str, tuple[Factor, ...]]:
        self._schedules()
        return self._by_symbol

    def _schedules(self) -> Mapping[str, Schedule]:
        now = time.monotonic()
        with self._lock:
            if self._loaded is not None and now - self._loaded[1] < self._recheck_s:
                return self._loaded[2]
            version = self._version.current() if self._version is not None else None
            if self._loaded is not None and version is not None and version == self._loaded[0]:
                self._loaded = (version, now, self._loaded[2])
                return self._loaded[2]
            by_symbol: dict[str, list[Factor]] = defaultdict(list)
            for f in self._store.all():
                by_symbol[f.symbol].append(f)
            schedules = {s: schedule_of(fs) for s, fs in by_symbol.items()}
            self._by_symbol = {s: tuple(sorted(fs, key=lambda f: f.ex_date)) for s, fs in by_symbol.items()}
            self._loaded = (version, now, schedules)
            return schedules

    def schedule(self, candle_symbol: str) -> Schedule | None:
        return self._schedules().get(exchange_symbol(candle_symbol))

    def factors(self, candle_symbol: str, as_of: date) -> list[Factor]:
        """The actions of a symbol with an ex-date on or before ``as_of``, oldest first."""
        return [f for f in self._factors().get(exchange_symbol(candle_symbol), ()) if f.ex_date <= as_of]


class AdjustedCandles:
    """A ``CandleRepository`` that reads through ``candles`` and adjusts what it returns.

    A query ending at ``end_ms`` applies the actions known by that IST date (``get_many``, which names no end:
    the ``clock``'s today). Writes go to the store untouched: adjusting is only ever done on read."""

    def __init__(self, candles: CandleRepository, book: FactorBook, clock: Clock) -> None:
        self._candles, self._book, self._clock = candles, book, clock

    def _adjusted(self, symbol: str, rows: list[Candle], end_ms: int) -> list[Candle]:
        schedule = self._book.schedule(symbol)
        if schedule is None or not rows:
            return rows
        return adjust_candles(rows, schedule, ist_from_ms(end_ms).date())

    def actions(self, symbol: str, end_ms: int) -> list[Factor]:
        """The actions a read of ``symbol`` ending at ``end_ms`` is adjusted for."""
        return self._book.factors(symbol, ist_from_ms(end_ms).date())

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        return self._adjusted(symbol, self._candles.latest(symbol, timeframe, end_ms, limit), end_ms)

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        return self._adjusted(symbol, self._candles.range(symbol, timeframe, start_ms, end_ms, limit), end_ms)

    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        found = self._candles.get_many(keys)
        now_ms = self._clock.now_ms()
        return {k: self._adjusted(k[0], [c], now_ms)[0] for k, c in found.items()}

    def put_many(self, candles: Iterable[Candle]) -> None:
        self._candles.put_many(candles)
