"""alert_dispatch's service: one triggered alert -> in-app inbox and e-mail, each channel on its own.

The inbox write is keyed by the trigger id (a redelivered event finds it there); the whole delivery is also
wrapped in Powertools idempotency by the handler, so a retried message sends no second e-mail.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from mantra.clock import Clock, ist_from_ms
from mantra.domain import Channel, Notification
from mantra.ports import EmailSender, NotificationRepository, UserRepository

log = logging.getLogger(__name__)

CONDITION_TEXT = {
    "crosses_above": "crossed above",
    "crosses_below": "crossed below",
    "above": "is at or above",
    "below": "is at or below",
}


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


class DeliveryReport(BaseModel):
    trigger_id: str
    delivered: list[str]
    skipped: list[str]
    failed: list[str]


class AlertDispatcher:
    def __init__(
        self, notifications: NotificationRepository, users: UserRepository, email: EmailSender, clock: Clock
    ) -> None:
        self._notifications, self._users, self._email, self._clock = notifications, users, email, clock

    def deliver(self, event: AlertTriggered) -> DeliveryReport:
        title = f"{event.symbol} {CONDITION_TEXT.get(event.condition, event.condition)} ₹{event.level}"
        at = ist_from_ms(event.tick_ts_ms).strftime("%d %b %Y %H:%M:%S IST")
        body = f"{event.symbol} traded at ₹{event.price} at {at}." + (
            f" Note: {event.note}" if event.note else ""
        )
        delivered: list[str] = []
        skipped: list[str] = []
        failed: list[str] = []
        # The inbox always gets it: it is the record of what fired.
        fresh = self._notifications.put_if_absent(
            Notification(
                notification_id=event.trigger_id,
                tenant_id=event.tenant_id,
                user_id=event.user_id,
                kind="alert.triggered",
                title=title,
                body=body,
                data=event.model_dump(mode="json", exclude={"channels"}),
                read=False,
                created_ms=self._clock.now_ms(),
            )
        )
        (delivered if fresh else skipped).append(Channel.IN_APP.value)
        if Channel.EMAIL in event.channels:
            user = self._users.get(event.user_id)
            if user is None:
                skipped.append(Channel.EMAIL.value)
            else:
                try:
                    self._email.send(
                        user.email,
                        f"Trade Mantra alert: {title}",
                        f"Hello {user.name},\n\n{body}\n\nAlert {event.alert_id} · trigger {event.trigger_id}\n",
                        {"X-Mantra-Trigger-Id": event.trigger_id, "X-Mantra-Tick-Ts": str(event.tick_ts_ms)},
                    )
                    delivered.append(Channel.EMAIL.value)
                except Exception:  # one failing channel never blocks the others
                    log.exception("e-mail delivery failed for %s", event.trigger_id)
                    failed.append(Channel.EMAIL.value)
        return DeliveryReport(
            trigger_id=event.trigger_id, delivered=delivered, skipped=skipped, failed=failed
        )
