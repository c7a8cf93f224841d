"""The user's in-app inbox."""

from __future__ import annotations

from mantra.domain import Notification, User
from mantra.errors import NotFound
from mantra.ports import NotificationRepository


class InboxService:
    def __init__(self, notifications: NotificationRepository) -> None:
        self._notifications = notifications

    def list(self, user: User, unread_only: bool = False, limit: int = 50) -> list[Notification]:
        return self._notifications.list(user.tenant_id, user.user_id, unread_only, limit)

    def mark_read(self, user: User, notification_id: str) -> None:
        if not self._notifications.mark_read(user.tenant_id, user.user_id, notification_id):
            raise NotFound(f"notification {notification_id} not found")
