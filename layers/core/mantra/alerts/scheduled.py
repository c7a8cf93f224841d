"""Rules that are not about a single tick: scanner-language expressions and patterns, checked on each
scheduled scan, and a saved scanner's new hits, matched when its ``signal.detected`` event arrives."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from mantra.alerts.evaluate import trigger_id
from mantra.alerts.events import ALERT_TRIGGERED, triggered_detail
from mantra.clock import Clock
from mantra.domain import Alert
from mantra.errors import Invalid
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.market.universes import Universe, universe
from mantra.money import to_paise
from mantra.ports import AlertRepository
from mantra.quant.scanner.checker import Checked
from mantra.quant.scanner.engine import compile_scan
from mantra.scans.models import ScanRun


class Executor(Protocol):
    def execute(self, compiled: Checked, uni: Universe, end_ms: int, limit: int = 100) -> ScanRun: ...


class ScheduledAlertRun(BaseModel):
    checked: int
    fired: int
    failed: list[str]


class ScheduledAlerts:
    def __init__(self, alerts: AlertRepository, scans: Executor, clock: Clock) -> None:
        self._alerts, self._scans, self._clock = alerts, scans, clock

    def run(self, scheduled_for: datetime) -> ScheduledAlertRun:
        at_ms = int(scheduled_for.timestamp() * 1000)
        checked = fired = 0
        failed: list[str] = []
        for tf in TIMEFRAMES_MS:
            key = f"expr:{tf}"
            rules = [a for a in self._alerts.active_for_symbols([key]).get(key, []) if a.live_at(at_ms)]
            by_expression: dict[str, list[Alert]] = defaultdict(list)
            for a in rules:
                by_expression[a.expression or ""].append(a)
            for expression, members in by_expression.items():
                try:
                    compiled = compile_scan(expression, tf)
                    symbols = ",".join(sorted({a.symbol for a in members}))
                    run = self._scans.execute(compiled, universe(symbols), at_ms, limit=10_000)
                except Invalid:
                    failed += [a.alert_id for a in members]
                    continue
                checked += len(members)
                hits = {h.symbol: h for h in run.hits}
                for a in members:
                    hit = hits.get(a.symbol)
                    if hit is None:
                        continue
                    # once per bar: a retried schedule, or the next minute on the same bar, fires nothing new
                    source = f"bar:{tf}:{run.bar_ms}"
                    tid = trigger_id(a.alert_id, source)
                    detail = triggered_detail(
                        a,
                        tid,
                        a.symbol,
                        hit.close_paise,
                        at_ms,
                        source,
                        facts={"expression": expression, "timeframe": tf},
                    )
                    fired += self._alerts.trigger(a, tid, self._clock.now_ms(), ALERT_TRIGGERED, detail)
        return ScheduledAlertRun(checked=checked, fired=fired, failed=failed)


class SignalDetected(BaseModel):
    """The ``signal.detected`` event's detail, as saved scanners and the movers scan publish it."""

    event_id: str
    scanner_id: str | None = None
    scan_id: str | None = None
    scanner_name: str | None = None
    tenant_id: str | None = None
    symbol: str
    price: str
    detected_ms: int = Field(ge=0)


class SignalAlerts:
    def __init__(self, alerts: AlertRepository, clock: Clock) -> None:
        self._alerts, self._clock = alerts, clock

    def match(self, signal: SignalDetected) -> int:
        scanner = signal.scanner_id or signal.scan_id
        if not scanner:
            return 0
        key = f"scanner:{scanner}"
        fired = 0
        for a in self._alerts.active_for_symbols([key]).get(key, []):
            if signal.tenant_id is not None and a.tenant_id != signal.tenant_id:
                continue  # a tenant's scanner feeds only that tenant's alerts
            if a.symbol not in ("*", signal.symbol) or not a.live_at(signal.detected_ms):
                continue
            tid = trigger_id(a.alert_id, signal.event_id)
            price = to_paise(signal.price)
            detail = triggered_detail(
                a,
                tid,
                signal.symbol,
                price,
                signal.detected_ms,
                signal.event_id,
                facts={"scanner": signal.scanner_name or scanner},
            )
            fired += self._alerts.trigger(a, tid, self._clock.now_ms(), ALERT_TRIGGERED, detail)
        return fired
