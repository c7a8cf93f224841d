"""Delivery on every channel, with preferences and quiet hours; a failing channel never blocks the others."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mantra.clock import ManualClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from core_fakes import InMemoryNotifications, InMemoryUsers
from mantra.alerts.dispatch import AlertDispatcher, AlertTriggered, ChannelsFailed
from mantra.alerts.sms import SmsKind
from mantra.domain import Channel, Preferences, Role, User


class Email:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        self.sent.append(to)


class Sns:
    def __init__(self, fail_sms: bool = False) -> None:
        self.sms: list[str] = []
        self.push: list[str] = []
        self.fail_sms = fail_sms

    def send_sms(self, phone_e164: str, text: str, kind: SmsKind = SmsKind.ALERT) -> str:
        if self.fail_sms:
            raise RuntimeError("carrier down")
        self.sms.append(phone_e164)
        return f"sms-{len(self.sms)}"

    def send_push(self, endpoint_arn: str, title: str, body: str) -> str:
        self.push.append(endpoint_arn)
        return f"push-{len(self.push)}"


class Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(self, tenant_id: str, event_type: str, event_id: str, payload: dict[str, object]) -> list[str]:
        self.calls.append(event_id)
        return ["ep_1:200"]


NOON_IST = 1_795_425_000_000  # 2026-11-23 12:00 IST (06:30 UTC)
VERIFIED = NOON_IST - 86_400_000  # the number was verified the day before
MIDNIGHT_IST = NOON_IST + 12 * 3_600_000


def setup(prefs: Preferences, sns: Sns | None = None, now: int = NOON_IST):  # type: ignore[no-untyped-def]
    users, notes = InMemoryUsers(), InMemoryNotifications()
    users.put(
        User(
            user_id="u",
            email="u@x.in",
            name="U",
            tenant_id="t",
            roles=frozenset({Role.TRADER}),
            plan_id="pro",
        ),
        "x",
        0,
    )
    users.save_preferences("u", prefs)
    email, sns, hooks = Email(), sns or Sns(), Hooks()
    return AlertDispatcher(notes, users, email, ManualClock(now), sns, hooks), notes, email, sns, hooks


def event(*channels: Channel) -> AlertTriggered:
    return AlertTriggered(
        event_id="trg_1",
        trigger_id="trg_1",
        tenant_id="t",
        user_id="u",
        alert_id="a",
        symbol="SBIN",
        condition="crosses_above",
        level="812.50",
        price="812.55",
        tick_id="x",
        tick_ts_ms=NOON_IST,
        channels=[Channel.IN_APP, *channels],
    )


ALL = (Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.WEBHOOK)


def test_every_channel_delivers_when_preferences_allow():
    prefs = Preferences(
        sms=True,
        push=True,
        phone_e164="+919876543210",
        phone_verified_ms=VERIFIED,
        push_endpoints=("arn:e1", "arn:e2"),
    )
    dispatcher, _, email, sns, hooks = setup(prefs)
    report = dispatcher.deliver(event(*ALL))
    assert report.delivered == ["in_app", "email", "sms", "push", "webhook"]
    assert (email.sent, sns.sms, sns.push, hooks.calls) == (
        ["u@x.in"],
        ["+919876543210"],
        ["arn:e1", "arn:e2"],
        ["trg_1"],
    )


def test_channels_turned_off_or_without_a_phone_are_skipped_with_the_reason():
    dispatcher, notes, email, sns, _ = setup(Preferences(email=False, sms=True))
    report = dispatcher.deliver(event(Channel.EMAIL, Channel.SMS, Channel.PUSH))
    assert report.skipped == ["email", "sms", "push"] and email.sent == [] and sns.sms == []
    outcomes = notes.outcomes["trg_1"]
    assert outcomes["email"] == "skipped:turned off in preferences"
    assert outcomes["sms"] == "skipped:no phone number in preferences"


def test_quiet_hours_mute_sms_and_push_but_not_the_inbox_or_webhooks():
    prefs = Preferences(
        sms=True,
        push=True,
        phone_e164="+919876543210",
        phone_verified_ms=VERIFIED,
        push_endpoints=("arn:e1",),
        quiet_start="22:00",
        quiet_end="07:00",
        quiet_channels=(Channel.SMS, Channel.PUSH),
    )
    dispatcher, notes, _, sns, hooks = setup(prefs, now=MIDNIGHT_IST)
    report = dispatcher.deliver(event(Channel.SMS, Channel.PUSH, Channel.WEBHOOK))
    assert report.delivered == ["in_app", "webhook"] and report.skipped == ["sms", "push"]
    assert sns.sms == [] and hooks.calls == ["trg_1"]
    assert notes.outcomes["trg_1"]["sms"] == "skipped:quiet hours"


def test_a_failing_sms_does_not_stop_email_push_or_webhook_and_is_retried_alone():
    prefs = Preferences(
        sms=True,
        push=True,
        phone_e164="+919876543210",
        phone_verified_ms=VERIFIED,
        push_endpoints=("arn:e1",),
    )
    dispatcher, notes, email, _, hooks = setup(prefs, Sns(fail_sms=True))
    with pytest.raises(ChannelsFailed) as failed:
        dispatcher.deliver(event(*ALL))
    assert failed.value.report.failed == ["sms"]
    assert failed.value.report.delivered == ["in_app", "email", "push", "webhook"]
    # the redelivered message, with SMS working again, sends only the SMS
    working = Sns()
    retry = AlertDispatcher(notes, dispatcher._users, email, ManualClock(NOON_IST), working, hooks)
    assert retry.deliver(event(*ALL)).delivered == ["in_app", "email", "sms", "push", "webhook"]
    assert working.sms == ["+919876543210"] and working.push == [] and len(email.sent) == 1
    assert hooks.calls == ["trg_1"]


def test_the_inbox_goes_first_on_its_own_and_a_redelivery_still_sends_only_what_failed():
    prefs = Preferences(sms=True, phone_e164="+919876543210", phone_verified_ms=VERIFIED)
    dispatcher, notes, email, _, _ = setup(prefs, Sns(fail_sms=True))
    # the inbox item exists before any other channel is tried (what the handler does first)
    assert dispatcher.post_inbox(event(Channel.EMAIL, Channel.SMS)) is True
    assert [n.notification_id for n in notes.list("t", "u", False, 10)] == ["trg_1"]
    with pytest.raises(ChannelsFailed):
        dispatcher.deliver(event(Channel.EMAIL, Channel.SMS), inbox_posted=True)
    # redelivered: the inbox is found (not posted again), outcomes are read back, only the SMS is retried
    retry = AlertDispatcher(notes, dispatcher._users, email, ManualClock(NOON_IST), Sns(), None)
    assert retry.post_inbox(event(Channel.EMAIL, Channel.SMS)) is False
    assert retry.deliver(event(Channel.EMAIL, Channel.SMS), inbox_posted=False).delivered == [
        "in_app",
        "email",
        "sms",
    ]
    assert len(email.sent) == 1 and len(notes.list("t", "u", False, 10)) == 1
