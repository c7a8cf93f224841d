"""After a plan change, the tenant's active alerts are brought within the new plan's limit (newest paused)."""

from __future__ import annotations

from core_fakes import (
    SESSION_10AM,
    InMemoryAlerts,
    InMemoryNotifications,
    InMemoryPlans,
    InMemoryUsers,
    make_alert,
    make_plan,
    make_user,
)
from mantra.alerts.plan_limits import PlanChanged, PlanLimits
from mantra.clock import ManualClock
from mantra.domain import Alert, AlertStatus


def _users(plan_id: str = "starter", *user_ids: str) -> InMemoryUsers:
    """The tenant's users on ``plan_id``, as the billing change that wrote the event left them."""
    users = InMemoryUsers()
    for user_id in user_ids or ("usr_a", "usr_b"):
        users.put(make_user(user_id, "ten_a", plan_id), "hash", SESSION_10AM)
    return users


def _world(
    limit: int, pro_limit: int = 100, users: InMemoryUsers | None = None
) -> tuple[PlanLimits, InMemoryAlerts, InMemoryNotifications]:
    alerts, notes = InMemoryAlerts(), InMemoryNotifications()
    plans = InMemoryPlans([make_plan("starter", alerts=limit), make_plan("pro", alerts=pro_limit)])
    return PlanLimits(alerts, plans, notes, users or _users(), ManualClock(SESSION_10AM)), alerts, notes


def _add(alerts: InMemoryAlerts, n: int, user_id: str = "usr_a", start: int = 0, **kw: object) -> None:
    for i in range(start, start + n):
        a = make_alert(alert_id=f"alr_{i:02d}", user_id=user_id, **kw)  # type: ignore[arg-type]
        alerts.create(a.model_copy(update={"created_ms": SESSION_10AM + i}))


EVENT = PlanChanged(
    event_id="plan:ten_a:starter:v4", tenant_id="ten_a", plan_id="starter", user_ids=("usr_a",)
)


def _status(alerts: InMemoryAlerts) -> dict[str, AlertStatus]:
    return {a.alert_id: a.status for a in alerts.list("ten_a")}


def test_a_downgrade_pauses_the_newest_alerts_over_the_limit_and_tells_their_owner() -> None:
    # Given seven active alerts made under a bigger plan, and the tenant now on a plan allowing five
    service, alerts, notes = _world(limit=5)
    _add(alerts, 7)
    # When the plan change is applied
    report = service.apply(EVENT)
    # Then the two newest are paused (not deleted), the five oldest stay active
    assert report.paused == ["alr_05", "alr_06"] and (report.limit, report.active_before) == (5, 7)
    status = _status(alerts)
    assert [k for k, v in status.items() if v is AlertStatus.ACTIVE] == [f"alr_{i:02d}" for i in range(5)]
    assert [k for k, v in status.items() if v is AlertStatus.PAUSED] == ["alr_05", "alr_06"]
    # And the owner has one inbox note naming them and the limit
    (note,) = notes.items.values()
    assert (note.user_id, note.kind, note.title) == ("usr_a", "alerts.paused", "2 alerts paused")
    assert "allows 5 active alerts" in note.body and note.data["alert_ids"] == ["alr_05", "alr_06"]


def test_each_user_is_told_about_their_own_alerts_only() -> None:
    service, alerts, notes = _world(limit=1)
    _add(alerts, 2, user_id="usr_a")
    _add(alerts, 2, user_id="usr_b", start=2)
    service.apply(EVENT)
    by_user = {n.user_id: n.data["alert_ids"] for n in notes.items.values()}
    assert by_user == {"usr_a": ["alr_01"], "usr_b": ["alr_02", "alr_03"]}


def test_triggered_and_paused_alerts_do_not_count_and_within_the_limit_nothing_changes() -> None:
    service, alerts, notes = _world(limit=3)
    _add(alerts, 3)
    _add(alerts, 2, start=3, status=AlertStatus.TRIGGERED)
    _add(alerts, 1, start=5, status=AlertStatus.PAUSED)
    before = _status(alerts)
    report = service.apply(EVENT)
    assert report.paused == [] and _status(alerts) == before and notes.items == {}


def test_a_redelivered_event_pauses_nothing_more_and_writes_no_second_note() -> None:
    service, alerts, notes = _world(limit=2)
    _add(alerts, 4)
    first, again = service.apply(EVENT), service.apply(EVENT)
    assert (len(first.paused), again.paused, len(notes.items)) == (2, [], 1)


def test_an_alert_that_fired_meanwhile_is_left_triggered_not_paused() -> None:
    alerts = InMemoryAlerts()
    _add(alerts, 2)

    class FiresFirst(InMemoryAlerts):
        def pause_for_plan(self, alert: Alert) -> bool:
            key = (alert.tenant_id, alert.alert_id)
            self.items[key] = self.items[key].model_copy(update={"status": AlertStatus.TRIGGERED})
            return super().pause_for_plan(alert)

    racing = FiresFirst(items=dict(alerts.items))
    report = PlanLimits(
        racing,
        InMemoryPlans([make_plan("starter", alerts=1)]),
        InMemoryNotifications(),
        _users(),
        ManualClock(SESSION_10AM),
    ).apply(EVENT)
    assert report.paused == [] and racing.items[("ten_a", "alr_01")].status is AlertStatus.TRIGGERED


UPGRADE = PlanChanged(event_id="plan:ten_a:pro:v5", tenant_id="ten_a", plan_id="pro", user_ids=("usr_a",))


def _move(users: InMemoryUsers, plan_id: str) -> None:
    """What the billing change behind an event does first: its users move to the new plan."""
    for user, password_hash in list(users.items.values()):
        users.put(user.model_copy(update={"plan_id": plan_id}), password_hash, SESSION_10AM)


def test_an_upgrade_brings_back_what_the_plan_paused_oldest_first_as_far_as_the_limit_goes() -> None:
    # Given seven alerts, five active and two paused by a downgrade, and one the user paused themselves
    users = _users("starter")
    service, alerts, notes = _world(limit=5, pro_limit=6, users=users)
    _add(alerts, 7)
    service.apply(EVENT)
    _add(alerts, 1, start=7, status=AlertStatus.PAUSED)
    # When the tenant moves to a plan allowing six
    _move(users, "pro")
    report = service.apply(UPGRADE)
    # Then the older of the two plan-paused alerts is active again; the other waits; the user's own stays paused
    assert report.resumed == ["alr_05"] and report.paused == []
    status = _status(alerts)
    assert (status["alr_05"], status["alr_06"], status["alr_07"]) == (
        AlertStatus.ACTIVE,
        AlertStatus.PAUSED,
        AlertStatus.PAUSED,
    )
    assert (
        alerts.items[("ten_a", "alr_06")].paused_by_plan
        and not alerts.items[("ten_a", "alr_07")].paused_by_plan
    )
    resumed = [n for n in notes.items.values() if n.kind == "alerts.resumed"]
    assert len(resumed) == 1 and resumed[0].title == "1 alert active again"
    assert resumed[0].data["alert_ids"] == ["alr_05"]


def test_an_alert_the_user_re_activated_or_changed_is_no_longer_the_plans_to_resume() -> None:
    users = _users("starter")
    service, alerts, _ = _world(limit=1, users=users)
    _add(alerts, 2)
    service.apply(EVENT)
    # the user pauses it themselves (a PATCH clears the plan's mark)
    key = ("ten_a", "alr_01")
    alerts.items[key] = alerts.items[key].model_copy(update={"paused_by_plan": False})
    _move(users, "pro")
    assert service.apply(UPGRADE).resumed == []
    assert alerts.items[key].status is AlertStatus.PAUSED
