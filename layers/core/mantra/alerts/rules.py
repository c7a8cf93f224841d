"""Which alert rules a tick batch fires (pure: no I/O). Price levels go through ``AlertIndex``; % change and
volume-spike rules are per symbol. Expired, paused and out-of-session (for market-hours-only rules) never fire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mantra.alerts.evaluate import trigger_id
from mantra.alerts.index import AlertIndex
from mantra.domain import CHANGE_CONDITIONS, PRICE_CONDITIONS, Alert, AlertCondition, Quote, Tick
from mantra.market.movers import change_bps
from mantra.market.session import in_session

VolumeRatio = Callable[[str, int], tuple[int, float] | None]  # (symbol, lookback) -> (current, average)


@dataclass(frozen=True)
class Trigger:
    trigger_id: str
    alert: Alert
    tick: Tick
    prev_paise: int | None
    facts: dict[str, object] = field(default_factory=dict)


def evaluate_batch(
    fresh: Mapping[str, Sequence[Tick]],
    alerts: Mapping[str, Sequence[Alert]],
    prev: Mapping[str, Quote],
    volume_ratio: VolumeRatio | None = None,
) -> list[Trigger]:
    """``fresh``: each symbol's new ticks in sequence order. One trigger per alert per batch at most."""
    out: list[Trigger] = []
    price_rules: list[Alert] = []
    for symbol, rules in alerts.items():
        ticks = fresh.get(symbol, ())
        if not ticks:
            continue
        for a in rules:
            if not a.live_at(ticks[0].ts_ms):
                continue
            if a.condition in PRICE_CONDITIONS:
                price_rules.append(a)
            elif a.condition in CHANGE_CONDITIONS:
                out += _change(a, ticks, prev.get(symbol))
            elif a.condition is AlertCondition.VOLUME_SPIKE and volume_ratio is not None:
                out += _volume(a, ticks, volume_ratio)
    out += _prices(price_rules, fresh, prev)
    return out


def _prices(
    rules: list[Alert], fresh: Mapping[str, Sequence[Tick]], prev: Mapping[str, Quote]
) -> list[Trigger]:
    if not rules:
        return []
    prev_price = {s: q.ltp_paise for s, q in prev.items()}
    out = []
    for market_hours_only in (False, True):
        group = [a for a in rules if a.market_hours_only is market_hours_only]
        if not group:
            continue
        ticks = [t for s in dict.fromkeys(a.symbol for a in group) for t in fresh[s]]
        if market_hours_only:
            ticks = [t for t in ticks if in_session(t.ts_ms)]
        index = AlertIndex(
            [a.symbol for a in group], [a.condition for a in group], [a.level_paise for a in group]
        )
        for hit in index.evaluate([t.symbol for t in ticks], [t.ltp_paise for t in ticks], prev_price):
            alert, tick = group[hit.rule], ticks[hit.tick]
            before = _price_before(ticks, hit.tick, prev_price)
            out.append(Trigger(trigger_id(alert.alert_id, tick.tick_id), alert, tick, before))
    return out


def _price_before(ticks: Sequence[Tick], i: int, prev_price: Mapping[str, int]) -> int | None:
    if i > 0 and ticks[i - 1].symbol == ticks[i].symbol:
        return ticks[i - 1].ltp_paise
    return prev_price.get(ticks[i].symbol)


def _change(alert: Alert, ticks: Sequence[Tick], quote: Quote | None) -> list[Trigger]:
    threshold = alert.threshold_bps or 0
    for i, t in enumerate(ticks):
        if alert.market_hours_only and not in_session(t.ts_ms):
            continue
        if alert.window == "session":
            reference = t.open_paise or (quote.open_paise if quote else None)
        else:
            reference = t.prev_close_paise or (quote.prev_close_paise if quote else None)
        if not reference:
            continue
        bps = change_bps(t.ltp_paise, reference)
        hit = bps >= threshold if alert.condition is AlertCondition.CHANGE_ABOVE else bps <= -threshold
        if hit:
            before = ticks[i - 1].ltp_paise if i else (quote.ltp_paise if quote else None)
            return [
                Trigger(
                    trigger_id(alert.alert_id, t.tick_id),
                    alert,
                    t,
                    before,
                    {"change_pct": f"{bps / 100:.2f}", "reference_paise": reference},
                )
            ]
    return []


def _volume(alert: Alert, ticks: Sequence[Tick], volume_ratio: VolumeRatio) -> list[Trigger]:
    last = ticks[-1]
    if alert.market_hours_only and not in_session(last.ts_ms):
        return []
    measured = volume_ratio(alert.symbol, alert.lookback or 20)
    if measured is None:
        return []
    current, average = measured
    multiple = (alert.threshold_bps or 0) / 100
    if average <= 0 or current < multiple * average:
        return []
    return [
        Trigger(
            trigger_id(alert.alert_id, last.tick_id),
            alert,
            last,
            None,
            {
                "minute_volume": current,
                "average_volume": round(average, 1),
                "multiple": f"{current / average:.2f}",
            },
        )
    ]
