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


def _div(value: int, by: Fraction) -> int:
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
    # (symbol, series) -> ex-dates ascending and the factor of everything on or after each
    schedules: dict[tuple[str, str], tuple[list[date], list[Fraction]]] = {}
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
        ex_dates = [d for d, _ in dated]
        suffix: list[Fraction] = [Fraction(1)] * (len(dated) + 1)
        for k in range(len(dated) - 1, -1, -1):
            suffix[k] = suffix[k + 1] * dated[k][1]
        schedules[symbol, series] = ex_dates, suffix
    out: list[DailyBar] = []
    for bar in rows:
        schedule = schedules.get((bar.symbol, bar.series))
        if schedule is None:
            out.append(bar)
            continue
        ex_dates, suffix = schedule
        f = suffix[bisect_right(ex_dates, bar.trade_date)]  # actions with an ex-date after this session
        fp = suffix[bisect_left(ex_dates, bar.trade_date)]  # ... on or after it: prev_close is the day before
        if f == 1 and fp == 1:
            out.append(bar)
            continue
        out.append(
            bar._replace(
                open_paise=_div(bar.open_paise, f),
                high_paise=_div(bar.high_paise, f),
                low_paise=_div(bar.low_paise, f),
                close_paise=_div(bar.close_paise, f),
                prev_close_paise=_div(bar.prev_close_paise, fp),
                last_paise=None if bar.last_paise is None else _div(bar.last_paise, f),
                volume=_mul(bar.volume, f),
                delivery_qty=None if bar.delivery_qty is None else _mul(bar.delivery_qty, f),
            )
        )
    return Adjusted(out, unresolved)
