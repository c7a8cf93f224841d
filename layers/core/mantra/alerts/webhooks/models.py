"""Webhook domain objects: endpoints (with their signing secrets) and deliveries (with their attempt log)."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from mantra.domain import Frozen

EVENT_TYPES: tuple[str, ...] = ("alert.triggered",)
"""What an endpoint may subscribe to. ``webhook.test`` is sent on request to one endpoint, never subscribed."""
TEST_EVENT = "webhook.test"
MAX_ENDPOINTS_PER_TENANT = 10
ROTATION_OVERLAP_MS = 24 * 3600 * 1000


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class SigningSecret(Frozen):
    secret: str
    expires_ms: int | None = None  # set on the previous secret at a rotation


class WebhookEndpoint(Frozen):
    endpoint_id: str
    tenant_id: str
    user_id: str
    url: str
    description: str
    event_types: tuple[str, ...]
    secrets: tuple[SigningSecret, ...]
    status: EndpointStatus
    created_ms: int
    disabled_reason: str | None = None
    disabled_ms: int | None = None

    def live_secrets(self, now_ms: int) -> list[str]:
        """Newest first; a rotated-out secret keeps signing until it expires."""
        return [s.secret for s in self.secrets if s.expires_ms is None or s.expires_ms > now_ms]

    def subscribed(self, event_type: str) -> bool:
        return self.status is EndpointStatus.ACTIVE and event_type in self.event_types


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_ms
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up, or the endpoint answered 410 Gone
    CANCELLED = "cancelled"  # the endpoint was deleted or disabled before the attempt


class Attempt(Frozen):
    number: int
    at_ms: int
    status_code: int | None
    error: str | None
    latency_ms: int


class Delivery(Frozen):
    message_id: str  # the webhook-id header: the same on every attempt
    tenant_id: str
    endpoint_id: str
    event_type: str
    event_id: str
    body: str
    status: DeliveryStatus
    attempts: tuple[Attempt, ...] = ()
    next_attempt_ms: int | None = None
    created_ms: int


def message_id(event_id: str, endpoint_id: str) -> str:
    """Deterministic per (event, endpoint): a redelivered event finds its delivery already recorded."""
    digest = hashlib.sha256(f"{event_id}\x1f{endpoint_id}".encode()).hexdigest()[:26]
    return f"msg_{digest}"
