"""alert_dispatch's service: one triggered alert -> every channel the alert and the user's preferences allow.

Each channel is tried on its own and its outcome is recorded on the inbox item, keyed by the trigger id. If a
channel fails, the others still go out and ``ChannelsFailed`` is raised so the message is redelivered; the
retry finds the recorded outcomes and redoes only what failed. After the queue's retries the message lands in
the dead-letter queue (``mantra dlq redrive`` puts it back).
"""

from __future__ import annotations

import logging
from typing import Protocol

from pydantic import BaseModel, Field

from mantra.alerts.email_body import alert_email
from mantra.alerts.preferences import in_quiet_hours
from mantra.alerts.sms import SmsAllowance, SmsKind
from mantra.clock import Clock, ist_from_ms
from mantra.domain import Channel, Notification, Preferences, User
from mantra.ports import EmailSender, NotificationRepository, UserRepository

log = logging.getLogger(__name__)

CONDITION_TEXT = {
    "crosses_above": "crossed above ₹{level}",
    "crosses_below": "crossed below ₹{level}",
    "above": "is at or above ₹{level}",
    "below": "is at or below ₹{level}",
    "change_pct_above": "is up {change_pct}%",
    "change_pct_below": "is down {change_pct}%",
    "volume_spike": "volume spike: {multiple}x this minute's average in earlier sessions",
    "expression": "matched {expression} on {timeframe}",
    "pattern": "formed {expression} on {timeframe}",
    "scanner_hit": "found by your scanner {scanner}",
}
DONE = ("delivered", "skipped")


class AlertTriggered(BaseModel):
    """The ``alert.triggered`` event's detail."""

    event_id: str
    trigger_id: str
    tenant_id: str
    user_id: str
    alert_id: str
    symbol: str
    condition: str
    level: str
    price: str
    previous_price: str | None = None
    tick_id: str
    tick_ts_ms: int
    channels: list[Channel]
    note: str | None = None
    recurring: bool = False
    facts: dict[str, object] = Field(default_factory=dict)


class DeliveryReport(BaseModel):
    trigger_id: str
    delivered: list[str]
    skipped: list[str]
    failed: list[str]


class ChannelsFailed(Exception):
    def __init__(self, report: DeliveryReport) -> None:
        super().__init__(f"channels failed for {report.trigger_id}: {', '.join(report.failed)}")
        self.report = report


class PushSender(Protocol):
    def send_sms(self, phone_e164: str, text: str, kind: SmsKind = SmsKind.ALERT) -> str: ...
    def send_push(self, endpoint_arn: str, title: str, body: str) -> str: ...


class WebhookSender(Protocol):
    def send(
        self, tenant_id: str, event_type: str, event_id: str, payload: dict[str, object]
    ) -> list[str]: ...


class AlertDispatcher:
    def __init__(
        self,
        notifications: NotificationRepository,
        users: UserRepository,
        email: EmailSender,
        clock: Clock,
        sns: PushSender | None = None,
        webhooks: WebhookSender | None = None,
        sms_allowance: SmsAllowance | None = None,
        base_url: str = "",
    ) -> None:
        self._notifications, self._users, self._email, self._clock = notifications, users, email, clock
        self._base_url = base_url  # where links in messages point (the API's public address)
        self._sns, self._webhooks, self._sms_allowance = sns, webhooks, sms_allowance

    def post_inbox(self, event: AlertTriggered) -> bool:
        """The in-app channel alone, first and on its own (it is also the record the other channels write their
        outcomes to). True when this call created the inbox item; a redelivery finds it and returns False."""
        return self._notifications.put_if_absent(self._note(event))

    def _note(self, event: AlertTriggered) -> Notification:
        what = CONDITION_TEXT.get(event.condition, event.condition).format(level=event.level, **event.facts)
        title = f"{event.symbol} {what}"
        at = ist_from_ms(event.tick_ts_ms).strftime("%d %b %Y %H:%M:%S IST")
        body = f"{event.symbol} traded at ₹{event.price} at {at}." + (
            f" Note: {event.note}" if event.note else ""
        )
        return Notification(
            notification_id=event.trigger_id,
            tenant_id=event.tenant_id,
            user_id=event.user_id,
            kind="alert.triggered",
            title=title,
            body=body,
            data=event.model_dump(mode="json", exclude={"channels"}),
            read=False,
            created_ms=event.tick_ts_ms,  # deterministic: a redelivery addresses the same inbox item
            delivered_ms=self._clock.now_ms(),
        )

    def deliver(self, event: AlertTriggered, inbox_posted: bool = False) -> DeliveryReport:
        """Every channel of the alert. ``inbox_posted``: ``post_inbox`` just created the inbox item, so nothing
        has gone out on any other channel yet (no need to read back outcomes)."""
        note = self._note(event)
        report = DeliveryReport(trigger_id=event.trigger_id, delivered=[], skipped=[], failed=[])
        # The inbox always gets it: it is the record of what fired, and where its delivery outcomes live.
        fresh = inbox_posted or self._notifications.put_if_absent(note)
        report.delivered.append(Channel.IN_APP.value)
        done = {} if fresh else self._notifications.deliveries(note)  # a redelivery: what already went out
        found = self._users.profile(event.user_id)
        user, prefs = found if found else (None, Preferences())
        quiet = in_quiet_hours(prefs, self._clock.now_ms())
        for channel in event.channels:
            if channel is Channel.IN_APP:
                continue
            previous = done.get(channel.value, "")
            if previous.startswith(DONE):
                (report.delivered if previous.startswith("delivered") else report.skipped).append(
                    channel.value
                )
                continue
            outcome = self._one(channel, event, note, user, prefs, quiet, done)
            self._notifications.record_delivery(note, channel.value, outcome)
            bucket = (
                report.delivered
                if outcome.startswith("delivered")
                else (report.skipped if outcome.startswith("skipped") else report.failed)
            )
            bucket.append(channel.value)
        if report.failed:
            raise ChannelsFailed(report)
        return report

    def _one(
        self,
        channel: Channel,
        event: AlertTriggered,
        note: Notification,
        user: User | None,
        prefs: Preferences,
        quiet: bool,
        done: dict[str, str],
    ) -> str:
        if user is None:
            return "skipped:no such user"
        if not getattr(prefs, channel.value, True):
            return "skipped:turned off in preferences"
        if quiet and channel in prefs.quiet_channels:
            return "skipped:quiet hours"
        try:
            if channel is Channel.EMAIL:
                mail = alert_email(
                    note, user.name, event.alert_id, event.trigger_id, event.tick_ts_ms, self._base_url
                )
                self._email.send(
                    user.email,
                    mail.subject,
                    mail.text,
                    {"X-Mantra-Trigger-Id": event.trigger_id, "X-Mantra-Tick-Ts": str(event.tick_ts_ms)},
                    html=mail.html,
                )
                return "delivered"
            if channel is Channel.SMS:
                return self._sms(user, prefs, note)
            if channel is Channel.PUSH:
                if not prefs.push_endpoints or self._sns is None:
                    return "skipped:no registered device"
                return self._push(event, note, prefs.push_endpoints, done)
            if channel is Channel.WEBHOOK:
                if self._webhooks is None:
                    return "skipped:webhooks unavailable"
                statuses = self._webhooks.send(
                    event.tenant_id, "alert.triggered", event.trigger_id, note.data
                )
                return "delivered:" + ",".join(statuses) if statuses else "skipped:no webhook endpoint"
        except Exception as exc:  # one failing channel never blocks the others
            log.warning("%s delivery failed for %s: %s", channel.value, event.trigger_id, exc)
            return f"failed:{type(exc).__name__}"
        return "skipped:unknown channel"

    def _sms(self, user: User, prefs: Preferences, note: Notification) -> str:
        """Only to a number its owner verified, within the plan's monthly SMS allowance."""
        if not prefs.phone_e164 or self._sns is None:
            return "skipped:no phone number in preferences"
        if prefs.phone_verified_ms is None:
            return "skipped:phone number not verified (POST /api/me/phone)"
        reservation = self._sms_allowance.reserve(user) if self._sms_allowance else None
        if reservation is not None and reservation.refused:
            return reservation.refused
        try:
            return "delivered:" + self._sns.send_sms(
                prefs.phone_e164, f"Trade Mantra: {note.title}. {note.body}", SmsKind.ALERT
            )
        except Exception:
            if reservation is not None and self._sms_allowance is not None:
                self._sms_allowance.release(reservation)
            raise

    def _push(
        self, event: AlertTriggered, note: Notification, endpoints: tuple[str, ...], done: dict[str, str]
    ) -> str:
        """Each device on its own, its outcome recorded under ``push:<endpoint>``: a retry after one device
        failed sends only to the devices that did not get it."""
        assert self._sns is not None
        ids: list[str] = []
        failed = 0
        for arn in endpoints:
            key = f"{Channel.PUSH.value}:{arn}"
            previous = done.get(key, "")
            if previous.startswith("delivered:"):
                ids.append(previous.removeprefix("delivered:"))
                continue
            try:
                outcome = "delivered:" + self._sns.send_push(arn, note.title, note.body)
            except Exception as exc:  # one device failing never blocks the others
                log.warning("push to %s failed for %s: %s", arn, event.trigger_id, exc)
                outcome = f"failed:{type(exc).__name__}"
            self._notifications.record_delivery(note, key, outcome)
            if outcome.startswith("delivered:"):
                ids.append(outcome.removeprefix("delivered:"))
            else:
                failed += 1
        if failed:
            return f"failed:{failed} of {len(endpoints)} devices"
        return "delivered:" + ",".join(ids)
