from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from frontend_api.deps import CurrentUser, Services
from frontend_api.schemas import NotificationOut

router = APIRouter(tags=["notifications"])


@router.get(
    "/api/notifications", response_model=list[NotificationOut], summary="Your in-app inbox, newest first"
)
def inbox(
    user: CurrentUser,
    services: Services,
    unread: Annotated[bool, Query(description="only unread")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NotificationOut]:
    return [NotificationOut.of(n) for n in services.inbox.list(user, unread, limit)]


@router.post(
    "/api/notifications/{notification_id}/read",
    status_code=204,
    response_class=Response,
    summary="Mark a notification read",
)
def mark_read(notification_id: str, user: CurrentUser, services: Services) -> Response:
    services.inbox.mark_read(user, notification_id)
    return Response(status_code=204)
