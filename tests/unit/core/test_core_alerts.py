"""Alerts: crossing logic, deterministic triggers, plan limits, dispatch per channel, inbox."""

from __future__ import annotations

import pytest
from core_fakes import (
    SESSION_10AM,
    InMemoryAlerts,
    InMemoryInstruments,
    InMemoryNotifications,
    InMemoryPlans,
    InMemoryUsers,
    RecordingEmail,
    make_alert,
    make_instrument,
    make_plan,
    make_tick,
    make_user,
)
from mantra.alerts.dispatch import AlertDispatcher, AlertTriggered, ChannelsFailed
from mantra.alerts.evaluate import evaluate, fires, trigger_id
from mantra.alerts.inbox import InboxService
from mantra.alerts.service import AlertService
from mantra.clock import ManualClock
from mantra.domain import AlertCondition, AlertStatus, Channel
from mantra.errors import Invalid, LimitExceeded, NotFound

C = AlertCondition


# --- evaluate -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "prev", "price", "expected"),
    [
        (C.CROSSES_ABOVE, 99, 100, True),  # reaching the level from below is a crossing
        (C.CROSSES_ABOVE, 99, 101, True),
        (C.CROSSES_ABOVE, 100, 101, False),  # already at the level: not from the other side
        (C.CROSSES_ABOVE, 101, 102, False),
        (C.CROSSES_ABOVE, None, 150, False),  # no previous price: no crossing
        (C.CROSSES_BELOW, 101, 100, True),
        (C.CROSSES_BELOW, 100, 99, False),
        (C.CROSSES_BELOW, 99, 98, False),
        (C.CROSSES_BELOW, None, 1, False),
        (C.ABOVE, None, 100, True),
        (C.ABOVE, 200, 99, False),
        (C.BELOW, None, 100, True),
        (C.BELOW, 1, 101, False),
    ],
)
def test_fires_at_level_100(condition, prev, price, expected) -> None:
    assert fires(condition, 100, prev, price) is expected


def test_a_crossing_inside_the_batch_fires_on_the_first_tick_past_the_level_only() -> None:
    # Given a previous price of 95 and ticks 98, 101, 103 / When a "crosses above 100" alert is evaluated
    ticks = [make_tick(seq=i, ltp=p) for i, p in enumerate((98, 101, 103), start=1)]
    alert = make_alert(level=100)
    out = evaluate({"RELIANCE": ticks}, {"RELIANCE": [alert]}, {"RELIANCE": 95})
    # Then it fires once, on the 101 tick, remembering 98 as the price before
    assert [(t.tick.ltp_paise, t.prev_paise) for t in out] == [(101, 98)]
    assert out[0].trigger_id == trigger_id(alert.alert_id, "RELIANCE-2")


def test_without_a_previous_price_the_first_tick_becomes_the_reference_for_a_crossing() -> None:
    ticks = [make_tick(seq=1, ltp=90), make_tick(seq=2, ltp=110)]
    out = evaluate({"RELIANCE": ticks}, {"RELIANCE": [make_alert(level=100)]}, {})
    assert [(t.tick.seq, t.prev_paise) for t in out] == [(2, 90)]


def test_each_alert_uses_its_own_price_history_in_the_batch() -> None:
    # Given two alerts on one symbol / When ticks cross both levels / Then each fires on its own tick
    ticks = [make_tick(seq=i, ltp=p) for i, p in enumerate((105, 115, 95), start=1)]
    up, down = make_alert("alr_up", level=110), make_alert("alr_down", condition=C.CROSSES_BELOW, level=100)
    out = evaluate({"RELIANCE": ticks}, {"RELIANCE": [up, down]}, {"RELIANCE": 100})
    assert {t.alert.alert_id: t.tick.seq for t in out} == {"alr_up": 2, "alr_down": 3}


def test_trigger_ids_are_deterministic_and_distinct_per_alert_and_tick() -> None:
    assert trigger_id("alr_1", "t1") == trigger_id("alr_1", "t1")
    assert len({trigger_id("alr_1", "t1"), trigger_id("alr_1", "t2"), trigger_id("alr_2", "t1")}) == 3
    assert trigger_id("alr_1", "t1").startswith("trg_") and len(trigger_id("a", "b")) == 36


def test_alerts_for_symbols_without_ticks_never_fire() -> None:
    out = evaluate({}, {"TCS": [make_alert(symbol="TCS", condition=C.ABOVE, level=1)]}, {"TCS": 5})
    assert out == []


# --- service ------------------------------------------------------------------------------------------------


@pytest.fixture
def service_parts():
    alerts = InMemoryAlerts()
    svc = AlertService(
        alerts,
        InMemoryInstruments([make_instrument("RELIANCE")]),
        InMemoryPlans([make_plan("pro", alerts=2)]),
        ManualClock(SESSION_10AM),
    )
    return svc, alerts


def _create(svc, user, symbol="RELIANCE"):
    return svc.create(user, symbol, C.CROSSES_ABOVE, 130_000, (Channel.IN_APP,), "breakout")


def test_create_alert_stores_an_active_alert_for_the_users_tenant(service_parts) -> None:
    svc, alerts = service_parts
    a = _create(svc, make_user())
    assert a.alert_id.startswith("alr_") and a.status is AlertStatus.ACTIVE
    assert (a.tenant_id, a.created_ms) == ("ten_a", SESSION_10AM)
    assert alerts.get("ten_a", a.alert_id) == a


def test_create_alert_refuses_an_unknown_symbol_naming_the_field(service_parts) -> None:
    svc, alerts = service_parts
    with pytest.raises(Invalid, match=r"^symbol: unknown instrument 'NOPE'"):
        _create(svc, make_user(), "NOPE")
    assert alerts.items == {}


def test_a_users_own_status_change_ends_a_pause_made_by_the_plan(service_parts) -> None:
    # Given an alert the platform paused when the plan's limit fell
    svc, alerts = service_parts
    a = _create(svc, make_user())
    assert alerts.pause_for_plan(a) and alerts.get("ten_a", a.alert_id).paused_by_plan
    # When its user re-activates it (within the limit) / Then it is theirs again, not the plan's to move
    assert svc.update(make_user(), a.alert_id, {"status": "active"}).paused_by_plan is False
    assert alerts.get("ten_a", a.alert_id).status is AlertStatus.ACTIVE


def test_plan_limit_on_active_alerts_is_enforced_per_tenant(service_parts) -> None:
    # Given the pro plan allows 2 active alerts and tenant A has 2
    svc, _ = service_parts
    _create(svc, make_user())
    _create(svc, make_user())
    # When tenant A creates a third / Then it is refused with the plan's name and limit
    with pytest.raises(LimitExceeded, match="Pro plan allows 2 active alerts"):
        _create(svc, make_user())
    # And another tenant is unaffected
    assert _create(svc, make_user("usr_b", tenant_id="ten_b")).tenant_id == "ten_b"


def test_triggered_alerts_do_not_count_towards_the_limit(service_parts) -> None:
    svc, alerts = service_parts
    first = _create(svc, make_user())
    _create(svc, make_user())
    alerts.trigger(first, "trg_x", 1, "alert.triggered", {})
    assert _create(svc, make_user()).status is AlertStatus.ACTIVE


def test_a_user_on_an_unknown_plan_can_create_no_alerts(service_parts) -> None:
    svc, _ = service_parts
    with pytest.raises(LimitExceeded, match="ghost plan allows 0"):
        _create(svc, make_user(plan_id="ghost"))


def test_another_tenants_alert_is_not_found_for_get_or_delete(service_parts) -> None:
    svc, alerts = service_parts
    a = _create(svc, make_user())
    intruder = make_user("usr_b", tenant_id="ten_b")
    with pytest.raises(NotFound):
        svc.get(intruder, a.alert_id)
    with pytest.raises(NotFound):
        svc.delete(intruder, a.alert_id)
    assert alerts.get("ten_a", a.alert_id) is not None
    assert svc.list(intruder) == []


def test_delete_removes_the_alert_and_a_second_delete_is_not_found(service_parts) -> None:
    svc, _ = service_parts
    user = make_user()
    a = _create(svc, user)
    svc.delete(user, a.alert_id)
    assert svc.list(user) == []
    with pytest.raises(NotFound):
        svc.delete(user, a.alert_id)


# --- dispatch -----------------------------------------------------------------------------------------------


def _event(channels=(Channel.IN_APP, Channel.EMAIL)) -> AlertTriggered:
    return AlertTriggered(
        event_id="trg_1",
        trigger_id="trg_1",
        tenant_id="ten_a",
        user_id="usr_a",
        alert_id="alr_1",
        symbol="RELIANCE",
        condition="crosses_above",
        level="1300.00",
        price="1301.50",
        previous_price="1299.00",
        tick_id="RELIANCE-2",
        tick_ts_ms=SESSION_10AM,
        channels=list(channels),
        note="breakout",
    )


def _dispatcher(email: RecordingEmail, with_user: bool = True, notes: InMemoryNotifications | None = None):
    users, notes = InMemoryUsers(), notes or InMemoryNotifications()
    if with_user:
        users.put(make_user(), "x", 0)
    return AlertDispatcher(notes, users, email, ManualClock(SESSION_10AM)), notes


def test_dispatch_writes_the_inbox_and_sends_one_email_with_ist_time() -> None:
    email = RecordingEmail()
    dispatcher, notes = _dispatcher(email)
    report = dispatcher.deliver(_event())
    assert (report.delivered, report.skipped, report.failed) == (["in_app", "email"], [], [])
    n = notes.items[("ten_a", "usr_a", "trg_1")]
    assert n.title == "RELIANCE crossed above ₹1300.00"
    assert "10:00:00 IST" in n.body and "Note: breakout" in n.body and not n.read
    to, subject, _text, headers = email.sent[0]
    assert (to, headers["X-Mantra-Trigger-Id"]) == ("usr_a@example.in", "trg_1")
    assert subject == "Trade Mantra alert: RELIANCE crossed above ₹1300.00"


def test_email_failure_does_not_block_the_in_app_notification_and_only_email_is_retried() -> None:
    # Given an SMTP server that refuses / When an alert is delivered to both channels
    failing = RecordingEmail(fail=True)
    dispatcher, notes = _dispatcher(failing)
    with pytest.raises(ChannelsFailed) as raised:
        dispatcher.deliver(_event())
    # Then the inbox has it and the e-mail is reported failed (raised, so the queue redelivers)
    assert (raised.value.report.delivered, raised.value.report.failed) == (["in_app"], ["email"])
    assert ("ten_a", "usr_a", "trg_1") in notes.items
    # When the message comes back and the server works again, only the e-mail is redone
    working = RecordingEmail()
    retry, _ = _dispatcher(working, notes=notes)
    report = retry.deliver(_event())
    assert report.delivered == ["in_app", "email"] and len(working.sent) == 1
    assert len(notes.items) == 1


def test_a_redelivered_trigger_sends_nothing_twice() -> None:
    email = RecordingEmail()
    dispatcher, notes = _dispatcher(email)
    dispatcher.deliver(_event())
    again = dispatcher.deliver(_event())
    assert again.delivered == ["in_app", "email"]
    assert len(notes.items) == 1 and len(email.sent) == 1


def test_in_app_only_alert_sends_no_email_and_unknown_user_skips_email() -> None:
    email = RecordingEmail()
    dispatcher, _ = _dispatcher(email)
    assert dispatcher.deliver(_event(channels=(Channel.IN_APP,))).delivered == ["in_app"]
    assert email.sent == []
    orphan, _ = _dispatcher(email, with_user=False)
    assert orphan.deliver(_event()).skipped == ["email"]
    assert email.sent == []


# --- inbox --------------------------------------------------------------------------------------------------


def test_inbox_lists_only_the_users_notifications_and_marks_read() -> None:
    dispatcher, notes = _dispatcher(RecordingEmail())
    dispatcher.deliver(_event(channels=(Channel.IN_APP,)))
    inbox, user = InboxService(notes), make_user()
    assert [n.notification_id for n in inbox.list(user, unread_only=True)] == ["trg_1"]
    assert inbox.list(make_user("usr_b", tenant_id="ten_b")) == []
    inbox.mark_read(user, "trg_1")
    assert inbox.list(user, unread_only=True) == [] and inbox.list(user)[0].read


def test_marking_someone_elses_notification_read_is_not_found() -> None:
    dispatcher, notes = _dispatcher(RecordingEmail())
    dispatcher.deliver(_event(channels=(Channel.IN_APP,)))
    with pytest.raises(NotFound):
        InboxService(notes).mark_read(make_user("usr_b", tenant_id="ten_b"), "trg_1")
    assert not notes.items[("ten_a", "usr_a", "trg_1")].read
