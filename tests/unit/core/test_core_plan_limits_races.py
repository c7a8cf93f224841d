"""plan.changed arrives through a standard SQS queue: at least once, in any order, side by side. These tests
replay the orders and interleavings that made the integration test write a second "2 alerts active again" note,
deterministically, against an inbox keyed as the notifications table keys it (time and id, not the id alone).
"""

from __future__ import annotations

from collections.abc import Callable

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
from mantra.domain import Alert, AlertStatus, Notification

TENANT, USER = "ten_a", "usr_a"
MINUTE_MS = 60_000
# the billing changes behind the events: cancel (-> starter) at 10:00, subscribe again (-> pro) at 10:01
CANCELLED = PlanChanged(
    event_id=f"plan:{TENANT}:starter:v1",
    tenant_id=TENANT,
    plan_id="starter",
    user_ids=(USER,),
    changed_ms=SESSION_10AM,
)
SUBSCRIBED = PlanChanged(
    event_id=f"plan:{TENANT}:pro:v2",
    tenant_id=TENANT,
    plan_id="pro",
    user_ids=(USER,),
    changed_ms=SESSION_10AM + MINUTE_MS,
)


class InboxKeyedLikeTheTable(InMemoryNotifications):
    """The notifications table's key: the owner and ``{created_ms:013d}#{notification_id}``
    (``store.models.NotificationItem``); ``put_if_absent`` is conditional on that key only."""

    def put_if_absent(self, notification: Notification, ttl_days: int = 90) -> bool:
        n = notification
        key = (n.tenant_id, n.user_id, f"{n.created_ms:013d}#{n.notification_id}")
        if key in self.items:
            return False
        self.items[key] = n
        return True


class AlertsWithAGap(InMemoryAlerts):
    """Alerts where something else (``meanwhile``) happens once, after a delivery's read and ``writes_before``
    of its writes."""

    meanwhile: Callable[[], None] | None = None
    writes_before = 0

    def _gap(self) -> None:
        if self.writes_before > 0:
            self.writes_before -= 1
            return
        run, self.meanwhile = self.meanwhile, None
        if run is not None:
            run()

    def pause_for_plan(self, alert: Alert) -> bool:
        self._gap()
        return super().pause_for_plan(alert)

    def resume_for_plan(self, alert: Alert) -> bool:
        self._gap()
        return super().resume_for_plan(alert)


class World:
    def __init__(self) -> None:
        self.clock = ManualClock(SESSION_10AM)
        self.alerts = AlertsWithAGap()
        self.notes = InboxKeyedLikeTheTable()
        self.users = InMemoryUsers()
        self.users.put(make_user(USER, TENANT, "starter"), "hash", SESSION_10AM)
        plans = InMemoryPlans([make_plan("starter", alerts=5), make_plan("pro", alerts=25)])
        self.service = PlanLimits(self.alerts, plans, self.notes, self.users, self.clock)
        for i in range(7):  # seven alerts made on Pro; Starter allows five
            a = make_alert(alert_id=f"alr_{i:02d}", user_id=USER, tenant_id=TENANT)
            self.alerts.create(a.model_copy(update={"created_ms": SESSION_10AM - MINUTE_MS + i}))

    def move_users(self, plan_id: str) -> None:
        """What the billing change does in the transaction that writes its plan.changed."""
        user = self.users.get(USER)
        assert user is not None
        self.users.put(user.model_copy(update={"plan_id": plan_id}), "hash", self.clock.now_ms())

    def statuses(self) -> list[AlertStatus]:
        return [a.status for a in sorted(self.alerts.list(TENANT), key=lambda a: a.alert_id)]

    def titles(self, kind: str) -> list[str]:
        return [n.title for n in self.notes.items.values() if n.kind == kind]


def test_a_cancellation_redelivered_after_the_new_subscription_pauses_nothing_and_no_second_note_is_written() -> (
    None
):
    # Given a cancelled tenant whose newest two alerts the cancellation paused
    world = World()
    world.service.apply(CANCELLED)
    assert world.statuses() == [AlertStatus.ACTIVE] * 5 + [AlertStatus.PAUSED] * 2
    # And the tenant subscribed again: the users are on Pro and that event brought both back
    world.move_users("pro")
    world.clock.advance(MINUTE_MS)
    assert world.service.apply(SUBSCRIBED).resumed == ["alr_05", "alr_06"]
    # When both events are delivered again, late (after the queue's visibility timeout), the older first
    world.clock.advance(MINUTE_MS)
    stale = world.service.apply(CANCELLED)
    world.clock.advance(MINUTE_MS)
    again = world.service.apply(SUBSCRIBED)
    # Then every alert is active, with one note each way (not a second "2 alerts active again")
    assert world.titles("alerts.resumed") == ["2 alerts active again"]
    assert world.titles("alerts.paused") == ["2 alerts paused"]
    assert world.statuses() == [AlertStatus.ACTIVE] * 7
    # And the old cancellation was recognised as superseded by the current plan and changed nothing
    assert (stale.superseded_by, stale.paused, again.resumed) == ("pro", [], [])


def test_a_subscription_applied_while_the_cancellation_is_being_applied_still_leaves_every_alert_active() -> (
    None
):
    # Given a cancelled tenant with seven active alerts
    world = World()

    def subscribe_again_and_apply_it() -> None:
        world.move_users("pro")
        world.clock.advance(MINUTE_MS)
        world.service.apply(SUBSCRIBED)  # nothing is paused yet: nothing to bring back

    # When the cancellation's delivery has read the plan and the alerts, and before its first write the tenant
    # subscribes again and that event is applied in full by another delivery
    world.alerts.meanwhile = subscribe_again_and_apply_it
    report = world.service.apply(CANCELLED)
    # Then the cancellation's delivery sees the newer plan after its writes and brings the alerts within it
    assert report.plan_id == "pro" and report.resumed == ["alr_05", "alr_06"]
    assert world.statuses() == [AlertStatus.ACTIVE] * 7
    # And the user was told both, once each
    assert world.titles("alerts.paused") == ["2 alerts paused"]
    assert world.titles("alerts.resumed") == ["2 alerts active again"]


def test_two_deliveries_of_one_event_side_by_side_leave_one_note() -> None:
    # Given seven active alerts and the cancellation delivered twice at once
    world = World()

    def the_other_delivery() -> None:
        world.clock.advance(1_500)  # it runs a moment later
        world.service.apply(CANCELLED)
        world.clock.advance(1_000)  # and the first one goes on after it

    # When one delivery has read the alerts and paused the first, and the other runs in full before its second
    world.alerts.meanwhile, world.alerts.writes_before = the_other_delivery, 1
    first = world.service.apply(CANCELLED)
    # Then the newest two are paused, each by one of them
    assert world.statuses() == [AlertStatus.ACTIVE] * 5 + [AlertStatus.PAUSED] * 2
    assert first.paused == ["alr_05"]
    # And the user has one note, not one per delivery
    (note,) = [n for n in world.notes.items.values() if n.kind == "alerts.paused"]
    assert set(note.data["alert_ids"]) <= {"alr_05", "alr_06"}


def test_a_notes_inbox_time_is_the_billing_changes_time_not_the_deliverys() -> None:
    # Given the cancellation delivered an hour after the billing change committed
    world = World()
    world.clock.advance(60 * MINUTE_MS)
    # When it is applied
    world.service.apply(CANCELLED)
    # Then the note is stored under the change's time, so every later delivery addresses the same inbox item
    (note,) = world.notes.items.values()
    assert note.created_ms == CANCELLED.changed_ms and note.delivered_ms == world.clock.now_ms()
