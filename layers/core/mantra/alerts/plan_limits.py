"""A tenant's alerts after its plan changes: more active alerts than the new plan allows -> the newest are paused.

Alert counts are checked when an alert is created or re-activated; a downgrade (a cancelled subscription, a
dunning sweep, a move to a smaller plan) would otherwise leave a tenant with every alert its old plan allowed.
The oldest stay active, so what a user set up first keeps working; the rest are paused, not deleted, and the
users whose alerts were paused get one inbox note saying how many and why. Re-activating one later goes through
the usual limit check. Running the same event again pauses nothing more and writes no second note.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from mantra.clock import Clock
from mantra.domain import Alert, AlertStatus, Notification
from mantra.ports import AlertRepository, NotificationRepository, PlanRepository

PLAN_CHANGED = "plan.changed"


class PlanChanged(BaseModel):
    """The detail of a plan.changed event (written to the outbox with the billing change that caused it)."""

    event_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    plan_id: str = Field(min_length=1)
    user_ids: tuple[str, ...] = ()


class LimitReport(BaseModel):
    tenant_id: str
    plan_id: str
    limit: int
    active_before: int
    paused: list[str]


class PlanLimits:
    def __init__(
        self,
        alerts: AlertRepository,
        plans: PlanRepository,
        notifications: NotificationRepository,
        clock: Clock,
    ) -> None:
        self._alerts, self._plans, self._notifications, self._clock = alerts, plans, notifications, clock

    def apply(self, event: PlanChanged) -> LimitReport:
        plan = self._plans.get(event.plan_id)
        limit = plan.limits.get("alerts", 0) if plan else 0
        active = sorted(
            (a for a in self._alerts.list(event.tenant_id) if a.status is AlertStatus.ACTIVE),
            key=lambda a: (a.created_ms, a.alert_id),
        )
        over = active[limit:]
        # conditional: an alert that fired or was paused meanwhile is left as it is
        paused = [a for a in over if self._alerts.pause(a.tenant_id, a.alert_id)]
        plan_name = plan.name if plan else event.plan_id
        for user_id, count in Counter(a.user_id for a in paused).items():
            self._notify(event, user_id, count, limit, plan_name, paused)
        return LimitReport(
            tenant_id=event.tenant_id,
            plan_id=event.plan_id,
            limit=limit,
            active_before=len(active),
            paused=[a.alert_id for a in paused],
        )

    def _notify(
        self, event: PlanChanged, user_id: str, count: int, limit: int, plan_name: str, paused: list[Alert]
    ) -> None:
        # keyed by the event: a redelivery (or a retry after a partial run) finds the note already there
        now = self._clock.now_ms()
        self._notifications.put_if_absent(
            Notification(
                notification_id=f"{event.event_id}:{user_id}",
                tenant_id=event.tenant_id,
                user_id=user_id,
                kind="alerts.paused",
                title=f"{count} alert{'s' if count != 1 else ''} paused",
                body=(
                    f"Your {plan_name} plan allows {limit} active alerts, so your newest {count} were paused. "
                    "Nothing was deleted: delete or pause others and re-activate these, or upgrade for more."
                ),
                data={
                    "plan_id": event.plan_id,
                    "limit": limit,
                    "alert_ids": [a.alert_id for a in paused if a.user_id == user_id],
                },
                read=False,
                created_ms=now,
                delivered_ms=now,
            )
        )
