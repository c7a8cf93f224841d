"""Billing notices (payment failed, downgraded, trial ending ...) -> every user of the tenant: inbox + e-mail.

They come from the outbox (``billing.notice`` on the bus), so they go out only if the state change that caused
them was written. Each user's inbox item is keyed by the notice, and the e-mail's outcome is recorded on it: a
redelivered notice sends nothing twice. Billing e-mails are transactional: quiet hours do not hold them back.
"""

from __future__ import annotations

from pydantic import BaseModel

from mantra.billing.ports import BillingStore
from mantra.billing.records import Notice
from mantra.clock import Clock
from mantra.domain import Notification
from mantra.ports import EmailSender, NotificationRepository


class NoticeReport(BaseModel):
    notice_id: str
    emailed: list[str]
    already_sent: list[str]


class BillingNotices:
    def __init__(
        self, notifications: NotificationRepository, store: BillingStore, email: EmailSender, clock: Clock
    ) -> None:
        self._notifications, self._store, self._email, self._clock = notifications, store, email, clock

    def deliver(self, notice: Notice) -> NoticeReport:
        report = NoticeReport(notice_id=notice.notice_id, emailed=[], already_sent=[])
        now = self._clock.now_ms()
        for user in self._store.tenant_users(notice.tenant_id):
            note = Notification(
                notification_id=f"{notice.notice_id}:{user.user_id}",
                tenant_id=notice.tenant_id,
                user_id=user.user_id,
                kind="billing",
                title=notice.subject,
                body=notice.body,
                data={"kind": notice.kind},
                read=False,
                created_ms=notice.created_ms or now,
                delivered_ms=now,
            )
            fresh = self._notifications.put_if_absent(note)
            if not fresh and self._notifications.deliveries(note).get("email") == "delivered":
                report.already_sent.append(user.user_id)
                continue
            self._email.send(
                user.email,
                f"Trade Mantra: {notice.subject}",
                f"Hello {user.name},\n\n{notice.body}\n\nTrade Mantra billing\n",
                {"X-Mantra-Notice-Id": notice.notice_id},
            )
            self._notifications.record_delivery(note, "email", "delivered")
            report.emailed.append(user.user_id)
        return report
