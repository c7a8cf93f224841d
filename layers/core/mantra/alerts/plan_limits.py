"""A tenant's alerts after its plan changes.

Alert counts are checked when an alert is created or re-activated; a downgrade (a cancelled subscription, a
dunning sweep, a move to a smaller plan) would otherwise leave a tenant with every alert its old plan allowed.
So: more active alerts than the new plan allows -> the newest are paused (marked as paused by the plan), the
oldest stay active, nothing is deleted. When a later plan allows more, the alerts the plan paused come back,
oldest first, as far as the limit goes; alerts a user paused or changed themselves are left alone. Each user
whose alerts moved gets one inbox note per event. Running the same event again changes nothing more.

Events come through a standard SQS queue: at least once, in any order, possibly side by side. Two rules keep a
tenant's alerts from flip-flopping between plans (and a note being written at each flip):

- an event is applied only while it still names the plan its users are on: the billing change that moves the
  users writes its plan.changed in the same transaction, so a user on another plan means a newer event carries
  the current plan (a downgrade redelivered after the tenant subscribed again pauses nothing);
- the plan is read again after the writes: if a newer plan landed meanwhile, its event may have read the alerts
  before these writes, so they are brought within the newer plan here too.

A note's inbox key is derived from the event alone (its id and the time of the billing change), so whichever
delivery writes it first, every other one finds it there.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from mantra.clock import Clock
from mantra.domain import Alert, AlertStatus, Notification
from mantra.ports import AlertRepository, NotificationRepository, PlanRepository, UserRepository

PLAN_CHANGED = "plan.changed"
# how often a plan that moved on while the alerts were written is followed (each move is a billing change)
_FOLLOW_NEWER_PLANS = 3


class PlanChanged(BaseModel):
    """The detail of a plan.changed event (written to the outbox with the billing change that caused it)."""

    event_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    plan_id: str = Field(min_length=1)
    user_ids: tuple[str, ...] = ()
    # when the billing change committed (epoch ms); 0 on events written before it was carried
    changed_ms: int = Field(0, ge=0)


class LimitReport(BaseModel):
    tenant_id: str
    plan_id: str
    limit: int
    active_before: int
    paused: list[str]
    resumed: list[str] = []
    superseded_by: str | None = None  # the users' current plan, when it is no longer the event's


class PlanLimits:
    def __init__(
        self,
        alerts: AlertRepository,
        plans: PlanRepository,
        notifications: NotificationRepository,
        users: UserRepository,
        clock: Clock,
    ) -> None:
        self._alerts, self._plans, self._notifications = alerts, plans, notifications
        self._users, self._clock = users, clock

    def apply(self, event: PlanChanged) -> LimitReport:
        """Bring the tenant's alerts within the event's plan, unless a newer plan has replaced it."""
        current = self._plan_now(event)
        if current != event.plan_id:  # superseded: the newer event brings the alerts within the current plan
            return LimitReport(
                tenant_id=event.tenant_id,
                plan_id=event.plan_id,
                limit=self._limit(event.plan_id),
                active_before=0,
                paused=[],
                superseded_by=current,
            )
        report = self._within(event, event.plan_id)
        for _ in range(_FOLLOW_NEWER_PLANS):
            later = self._plan_now(event)
            if later == report.plan_id:
                break
            report = self._within(event, later)
        return report

    def _plan_now(self, event: PlanChanged) -> str:
        """The plan the event's users are on now: another plan than the event's if any of them is on one."""
        others = sorted(
            {u.plan_id for u in map(self._users.get, event.user_ids) if u is not None} - {event.plan_id}
        )
        return others[0] if others else event.plan_id

    def _limit(self, plan_id: str) -> int:
        plan = self._plans.get(plan_id)
        return plan.limits.get("alerts", 0) if plan else 0

    def _within(self, event: PlanChanged, plan_id: str) -> LimitReport:
        """Bring the tenant's active alerts within ``plan_id``'s limit; note each user whose alerts moved."""
        plan = self._plans.get(plan_id)
        limit = plan.limits.get("alerts", 0) if plan else 0
        alerts = sorted(self._alerts.list(event.tenant_id), key=lambda a: (a.created_ms, a.alert_id))
        active = [a for a in alerts if a.status is AlertStatus.ACTIVE]
        # conditional writes: an alert that fired, or that its user changed, meanwhile is left as it is
        paused = [a for a in active[limit:] if self._alerts.pause_for_plan(a)]
        room = max(0, limit - len(active))
        waiting = [a for a in alerts if a.status is AlertStatus.PAUSED and a.paused_by_plan][:room]
        resumed = [a for a in waiting if self._alerts.resume_for_plan(a)]
        name = plan.name if plan else plan_id
        for user_id, mine in _by_user(paused).items():
            self._notify(
                event,
                plan_id,
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
                plan_id,
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
            plan_id=plan_id,
            limit=limit,
            active_before=len(active),
            paused=[a.alert_id for a in paused],
            resumed=[a.alert_id for a in resumed],
        )

    def _notify(
        self,
        event: PlanChanged,
        plan_id: str,
        what: str,
        user_id: str,
        mine: list[Alert],
        title: str,
        body: str,
        limit: int,
    ) -> None:
        # The inbox keys a note by its time and id, so both come from the event: any delivery, however late or
        # side by side with another, addresses the same inbox item and finds it there.
        now = self._clock.now_ms()
        self._notifications.put_if_absent(
            Notification(
                notification_id=f"{event.event_id}:{user_id}:{what}",
                tenant_id=event.tenant_id,
                user_id=user_id,
                kind=f"alerts.{what}",
                title=title,
                body=body,
                data={"plan_id": plan_id, "limit": limit, "alert_ids": [a.alert_id for a in mine]},
                read=False,
                created_ms=event.changed_ms or now,
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
