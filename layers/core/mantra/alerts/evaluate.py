"""Streaming evaluation of price alerts over a tick batch (pure: no I/O).

Cost grows with the alerts on the instruments in the batch, not with every alert: callers pass only the active
alerts of the symbols they saw. A trigger's id is derived from the alert and the tick, so the same tick
replayed can only ever produce the same trigger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mantra.domain import Alert, AlertCondition, Tick


@dataclass(frozen=True, slots=True)
class Trigger:
    trigger_id: str
    alert: Alert
    tick: Tick
    prev_paise: int | None


def trigger_id(alert_id: str, tick_id: str) -> str:
    return "trg_" + hashlib.sha256(f"{alert_id}|{tick_id}".encode()).hexdigest()[:32]


def fires(condition: AlertCondition, level: int, prev: int | None, price: int) -> bool:
    if condition is AlertCondition.ABOVE:
        return price >= level
    if condition is AlertCondition.BELOW:
        return price <= level
    if prev is None:  # a crossing needs a price on the other side first
        return False
    if condition is AlertCondition.CROSSES_ABOVE:
        return prev < level <= price
    return prev > level >= price


def evaluate(
    ticks_by_symbol: Mapping[str, Sequence[Tick]],
    alerts_by_symbol: Mapping[str, Sequence[Alert]],
    prev_price: Mapping[str, int],
) -> list[Trigger]:
    """Ticks must be in sequence order per symbol. Each (one-shot) alert fires at most once."""
    out: list[Trigger] = []
    for symbol, alerts in alerts_by_symbol.items():
        ticks = ticks_by_symbol.get(symbol, ())
        for alert in alerts:
            prev = prev_price.get(symbol)
            for tick in ticks:
                if fires(alert.condition, alert.level_paise, prev, tick.ltp_paise):
                    out.append(Trigger(trigger_id(alert.alert_id, tick.tick_id), alert, tick, prev))
                    break
                prev = tick.ltp_paise
    return out
