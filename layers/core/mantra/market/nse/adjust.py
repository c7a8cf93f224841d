"""Prices and volumes adjusted for splits, bonuses and rights, applied on read.

The daily reports are not adjusted: on an ex-date the close simply drops. ``adjust`` divides every price of a
session before an action's ex-date by the action's factor (the product of all later actions' factors) and
multiplies its volume and delivery quantity by it, so a series reads as if the share count had always been
today's. Factors are exact fractions; each value is rounded half-even to whole paise (shares) only once, at
the end. ``prev_close`` of a session belongs to the session before it, so it is adjusted for actions from that
session's ex-dates on.

Actions repeated across series and files (the bc file lists an action for EQ, BE, BL, ... and on every day up
to its ex-date) are counted once per symbol. A rights factor needs the cum-rights price (the close before
the ex-date, read from the rows themselves: ``prev_close`` of the ex-date session, else the last close before
it) and the face value; a rights action without them is not applied and is listed in ``unresolved``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from mantra.market.nse.corporate_actions import CorporateAction
from mantra.market.nse.types import DailyBar


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An action whose factor could not be computed from what was given, and why."""

    action: CorporateAction
    reason: str


@dataclass(frozen=True, slots=True)
class Adjusted:
    """The adjusted rows (same order as given) and the actions that could not be applied."""

    rows: list[DailyBar]
    unresolved: list[Unresolved] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One symbol's ex-dates ascending and, for each, the product of its factor and every later one's."""

    ex_dates: tuple[date, ...]
    suffix: tuple[Fraction, ...]  # len(ex_dates) + 1; the last is 1

    @classmethod
    def of(cls, dated: Iterable[tuple[date, Fraction]]) -> Schedule:
        ordered = sorted(dated, key=lambda d: d[0])
        suffix = [Fraction(1)] * (len(ordered) + 1)
        for k in range(len(ordered) - 1, -1, -1):
            suffix[k] = suffix[k + 1] * ordered[k][1]
        return cls(tuple(d for d, _ in ordered), tuple(suffix))

    def until(self, as_of: date) -> Schedule:
        """Only the actions with an ex-date on or before ``as_of``."""
        n = bisect_right(self.ex_dates, as_of)
        if n == len(self.ex_dates):
            return self
        tail = self.suffix[n]
        return Schedule(self.ex_dates[:n], tuple(s / tail for s in self.suffix[: n + 1]))

    def factor(self, session: date) -> Fraction:
        """The product of the factors of actions with an ex-date after ``session``."""
        return self.suffix[bisect_right(self.ex_dates, session)]

    def factor_from(self, session: date) -> Fraction:
        """... with an ex-date on or after ``session`` (what its ``prev_close``, the day before's, needs)."""
        return self.suffix[bisect_left(self.ex_dates, session)]


def unique_actions(actions: Iterable[CorporateAction]) -> list[CorporateAction]:
    """One action per (symbol, ex-date, purpose), preferring one that knows its face value; by ex-date."""
    best: dict[tuple[str, date | None, str], CorporateAction] = {}
    for action in actions:
        seen = best.get(action.key)
        if seen is None or (seen.face_value_paise is None and action.face_value_paise is not None):
            best[action.key] = action
    return sorted(best.values(), key=lambda a: (a.symbol, a.ex_date or date.min))


def _cum_price(bars: Sequence[DailyBar], ex_date: date) -> int | None:
    """The close before ``ex_date``: the first session on or after it carries it as its (unadjusted)
    prev_close; when there is none, the last close."""
    j = bisect_left([b.trade_date for b in bars], ex_date)
    if j < len(bars):
        return bars[j].prev_close_paise
    return bars[-1].close_paise if bars else None


def divide_paise(value: int, by: Fraction) -> int:
    """``value`` / ``by``, rounded half to even to a whole unit (Fraction rounds half to even)."""
    return round(Fraction(value) / by)


def _mul(value: int, by: Fraction) -> int:
    return round(value * by)


def adjust(
    rows: Sequence[DailyBar], actions: Iterable[CorporateAction], *, as_of: date | None = None
) -> Adjusted:
    """``rows`` with prices divided and volumes multiplied by the cumulative factor of the later actions.

    Only price-adjusting actions count (splits, consolidations, bonuses, rights); with ``as_of``, only those
    with an ex-date on or before it (what was known then: no look-ahead in a backtest).
    """
    by_symbol: dict[str, list[tuple[date, CorporateAction]]] = defaultdict(list)
    for action in unique_actions(a for a in actions if a.adjusts_prices):
        ex = action.ex_date
        if ex is not None and (as_of is None or ex <= as_of):
            by_symbol[action.symbol].append((ex, action))
    per_series: dict[tuple[str, str], list[DailyBar]] = defaultdict(list)
    for bar in rows:
        if bar.symbol in by_symbol:
            per_series[bar.symbol, bar.series].append(bar)
    unresolved: list[Unresolved] = []
    schedules: dict[tuple[str, str], Schedule] = {}
    for (symbol, series), bars in per_series.items():
        bars.sort(key=lambda b: b.trade_date)
        dated: list[tuple[date, Fraction]] = []
        for ex, action in by_symbol[symbol]:
            factor = action.purpose.share_factor
            if action.rights is not None:
                cum = _cum_price(bars, ex)
                if cum is None or action.face_value_paise is None:
                    missing = "the face value" if cum is not None else "a close before the ex-date"
                    unresolved.append(Unresolved(action, f"rights factor needs {missing} ({series})"))
                    continue
                factor *= action.rights.factor(cum, action.face_value_paise)
            dated.append((ex, factor))
        schedules[symbol, series] = Schedule.of(dated)
    out: list[DailyBar] = []
    for bar in rows:
        schedule = schedules.get((bar.symbol, bar.series))
        if schedule is None:
            out.append(bar)
            continue
        f = schedule.factor(bar.trade_date)
        fp = schedule.factor_from(bar.trade_date)
        if f == 1 and fp == 1:
            out.append(bar)
            continue
        out.append(
            bar._replace(
                open_paise=divide_paise(bar.open_paise, f),
                high_paise=divide_paise(bar.high_paise, f),
                low_paise=divide_paise(bar.low_paise, f),
                close_paise=divide_paise(bar.close_paise, f),
                prev_close_paise=divide_paise(bar.prev_close_paise, fp),
                last_paise=None if bar.last_paise is None else divide_paise(bar.last_paise, f),
                volume=_mul(bar.volume, f),
                delivery_qty=None if bar.delivery_qty is None else _mul(bar.delivery_qty, f),
            )
        )
    return Adjusted(out, unresolved)
