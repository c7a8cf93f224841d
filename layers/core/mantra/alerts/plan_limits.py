"""A tenant's alerts after its plan changes.

Alert counts are checked when an alert is created or re-activated; a downgrade (a cancelled subscription, a
dunning sweep, a move to a smaller plan) would otherwise leave a tenant with every alert its old plan allowed.
So: more active alerts than the new plan allows -> the newest are paused (marked as paused by the plan), the
oldest stay active, nothing is deleted. When a later plan allows more, the alerts the plan paused come back,
oldest first, as far as the limit goes; alerts a user paused or changed themselves are left alone. Each user
whose alerts moved gets one inbox note per event. Running the same event again changes nothing more.
"""

from __future__ import annotations

from collections import defaultdict

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
    resumed: list[str] = []


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
        alerts = sorted(self._alerts.list(event.tenant_id), key=lambda a: (a.created_ms, a.alert_id))
        active = [a for a in alerts if a.status is AlertStatus.ACTIVE]
        # conditional writes: an alert that fired, or that its user changed, meanwhile is left as it is
        paused = [a for a in active[limit:] if self._alerts.pause_for_plan(a)]
        room = max(0, limit - len(active))
        waiting = [a for a in alerts if a.status is AlertStatus.PAUSED and a.paused_by_plan][:room]
        resumed = [a for a in waiting if self._alerts.resume_for_plan(a)]
        name = plan.name if plan else event.plan_id
        for user_id, mine in _by_user(paused).items():
            self._notify(
                event,
                "paused",
                user_id,
                mine,
                f"{len(mine)} alert{_s(mine)} paused",
                f"Your {name} plan allows {limit} active alerts, so your newest {len(mine)} were paused. Nothing "
                "was deleted: delete or pause others and re-activate these, or upgrade for more.",
                limit,
            )
        for user_id, mine in _by_user(resumed).items():
            self._notify(
                event,
                "resumed",
                user_id,
                mine,
                f"{len(mine)} alert{_s(mine)} active again",
                f"Your {name} plan allows {limit} active alerts, so the {len(mine)} paused by your earlier "
                "plan's limit are watching again.",
                limit,
            )
        return LimitReport(
            tenant_id=event.tenant_id,
            plan_id=event.plan_id,
            limit=limit,
            active_before=len(active),
            paused=[a.alert_id for a in paused],
            resumed=[a.alert_id for a in resumed],
        )

    def _notify(
        self,
        event: PlanChanged,
        what: str,
        user_id: str,
        mine: list[Alert],
        title: str,
        body: str,
        limit: int,
    ) -> None:
        # keyed by the event: a redelivery (or a retry after a partial run) finds the note already there
        now = self._clock.now_ms()
        self._notifications.put_if_absent(
            Notification(
                notification_id=f"{event.event_id}:{user_id}:{what}",
                tenant_id=event.tenant_id,
                user_id=user_id,
                kind=f"alerts.{what}",
                title=title,
                body=body,
                data={"plan_id": event.plan_id, "limit": limit, "alert_ids": [a.alert_id for a in mine]},
                read=False,
                created_ms=now,
                delivered_ms=now,
            )
        )


def _by_user(alerts: list[Alert]) -> dict[str, list[Alert]]:
    out: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        out[a.user_id].append(a)
    return out


def _s(items: list[Alert]) -> str:
    return "" if len(items) == 1 else "s"
