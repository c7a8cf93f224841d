"""Alert rules owned by a tenant: create, list, read, delete, within the plan's limit."""

from __future__ import annotations

import secrets

from mantra.clock import Clock
from mantra.domain import Alert, AlertCondition, AlertStatus, Channel, User
from mantra.errors import Invalid, LimitExceeded, NotFound
from mantra.ports import AlertRepository, InstrumentRepository, PlanRepository


class AlertService:
    def __init__(
        self, alerts: AlertRepository, instruments: InstrumentRepository, plans: PlanRepository, clock: Clock
    ) -> None:
        self._alerts, self._instruments, self._plans, self._clock = alerts, instruments, plans, clock

    def create(
        self,
        user: User,
        symbol: str,
        condition: AlertCondition,
        level_paise: int,
        channels: tuple[Channel, ...],
        note: str | None,
    ) -> Alert:
        if self._instruments.get(symbol) is None:
            raise Invalid(f"symbol: unknown instrument {symbol!r}; search GET /api/instruments?q=")
        plan = self._plans.get(user.plan_id)
        limit = plan.limits.get("alerts", 0) if plan else 0
        if self._alerts.count_active(user.tenant_id) >= limit:
            raise LimitExceeded(
                f"your {plan.name if plan else user.plan_id} plan allows {limit} active alerts; "
                "delete one or upgrade for more"
            )
        alert = Alert(
            tenant_id=user.tenant_id,
            alert_id="alr_" + secrets.token_hex(8),
            user_id=user.user_id,
            symbol=symbol,
            condition=condition,
            level_paise=level_paise,
            channels=channels,
            note=note,
            status=AlertStatus.ACTIVE,
            created_ms=self._clock.now_ms(),
        )
        self._alerts.create(alert)
        return alert

    def list(self, user: User) -> list[Alert]:
        return self._alerts.list(user.tenant_id)

    def get(self, user: User, alert_id: str) -> Alert:
        alert = self._alerts.get(user.tenant_id, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    def delete(self, user: User, alert_id: str) -> None:
        if not self._alerts.delete(user.tenant_id, alert_id):
            raise NotFound(f"alert {alert_id} not found")
