"""Option-chain alert rules (PCR, implied volatility, OI change), checked on each scheduled scan against the
live chain. Rules on an underlying read its nearest expiry; rules on a contract read that contract's chain.
Thresholds are stored x100: PCR 1.20 -> 120, IV 18.5 % -> 1850, OI change 25 % -> 2500."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from mantra.alerts.evaluate import trigger_id
from mantra.alerts.events import ALERT_TRIGGERED, triggered_detail
from mantra.alerts.scheduled import ScheduledAlertRun
from mantra.clock import Clock
from mantra.domain import OPTION_CONDITIONS, Alert, AlertCondition
from mantra.errors import MantraError
from mantra.market.option_chain import OptionChain, OptionLeg
from mantra.ports import AlertRepository, InstrumentRepository

ABOVE = {AlertCondition.PCR_ABOVE, AlertCondition.IV_ABOVE, AlertCondition.OI_CHANGE_ABOVE}


class Chains(Protocol):
    def chain(self, underlying: str, expiry: str | None = None) -> OptionChain: ...


def _leg(chain: OptionChain, symbol: str) -> OptionLeg | None:
    for row in chain.rows:
        for leg in (row.call, row.put):
            if leg is not None and leg.symbol == symbol:
                return leg
    return None


def measure(alert: Alert, chain: OptionChain) -> tuple[float | None, int | None]:
    """The rule's figure (in its own unit: ratio or percent) and a price to report with it, in paise."""
    spot = chain.summary.spot_paise
    if alert.condition in (AlertCondition.PCR_ABOVE, AlertCondition.PCR_BELOW):
        return chain.summary.pcr_oi, spot
    leg = _leg(chain, alert.symbol)
    if alert.condition in (AlertCondition.IV_ABOVE, AlertCondition.IV_BELOW):
        if leg is None:  # a rule on the underlying: its at-the-money IV
            return (None if chain.summary.atm_iv is None else chain.summary.atm_iv * 100), spot
        return (None if leg.iv is None else leg.iv * 100), leg.ltp_paise
    if leg is None or leg.oi is None or leg.oi_change is None or leg.oi - leg.oi_change <= 0:
        return None, None
    return leg.oi_change * 100 / (leg.oi - leg.oi_change), leg.ltp_paise


class OptionAlerts:
    def __init__(
        self, alerts: AlertRepository, chains: Chains, instruments: InstrumentRepository, clock: Clock
    ) -> None:
        self._alerts, self._chains, self._instruments, self._clock = alerts, chains, instruments, clock

    def run(self, scheduled_for: datetime) -> ScheduledAlertRun:
        at_ms = int(scheduled_for.timestamp() * 1000)
        rules = [
            a for a in self._alerts.active_for_symbols(["options"]).get("options", []) if a.live_at(at_ms)
        ]
        chains: dict[tuple[str, str | None], OptionChain | None] = {}
        checked = fired = 0
        failed: list[str] = []
        for a in rules:
            if a.condition not in OPTION_CONDITIONS:
                continue
            chain = self._chain_for(a, chains)
            if chain is None:
                failed.append(a.alert_id)
                continue
            checked += 1
            value, price = measure(a, chain)
            threshold = (a.threshold_bps or 0) / 100
            if value is None or not (value >= threshold if a.condition in ABOVE else value <= threshold):
                continue
            source = f"options:{chain.underlying}:{chain.expiry}:{scheduled_for.isoformat()}"
            tid = trigger_id(a.alert_id, source)
            facts = {"value": round(value, 4), "threshold": threshold, "expiry": chain.expiry}
            detail = triggered_detail(a, tid, a.symbol, price or 0, at_ms, source, facts=facts)
            fired += self._alerts.trigger(a, tid, self._clock.now_ms(), ALERT_TRIGGERED, detail)
        return ScheduledAlertRun(checked=checked, fired=fired, failed=failed)

    def _chain_for(
        self, a: Alert, cache: dict[tuple[str, str | None], OptionChain | None]
    ) -> OptionChain | None:
        contract = self._instruments.get(a.symbol)
        key = (contract.underlying, contract.expiry) if contract and contract.underlying else (a.symbol, None)
        if key not in cache:
            try:
                cache[key] = self._chains.chain(key[0], key[1])
            except MantraError:
                cache[key] = None
        return cache[key]
