"""Webhook endpoints: register, list, delete, rotate the secret, send a test, read the delivery log.

A secret is shown once, in the answer to create and rotate; it is never listed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from mantra.alerts.webhooks.models import EVENT_TYPES, Attempt, Delivery, WebhookEndpoint
from mantra.clock import utc_from_ms
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Entitled, Services

router = APIRouter(tags=["webhooks"], dependencies=[Entitled("webhooks")])


class WebhookIn(BaseModel):
    url: str = Field(max_length=2048, examples=["https://hooks.example.in/trade-mantra"])
    description: str = Field("", max_length=200, examples=["Alerts to my trading bot"])
    event_types: list[str] = Field(
        min_length=1, examples=[["alert.triggered"]], description=f"any of: {', '.join(EVENT_TYPES)}"
    )


class WebhookOut(BaseModel):
    endpoint_id: str = Field(examples=["we_1795454600000_3f2a9c01"])
    url: str
    description: str
    event_types: list[str]
    status: str = Field(examples=["active"], description="active, or disabled (e.g. after 410 Gone)")
    disabled_reason: str | None
    created_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        description="after a rotation, the previous secret also signs until then"
    )

    @classmethod
    def of(cls, e: WebhookEndpoint) -> WebhookOut:
        previous = [s.expires_ms for s in e.secrets if s.expires_ms is not None]
        return cls(
            endpoint_id=e.endpoint_id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            status=e.status.value,
            disabled_reason=e.disabled_reason,
            created_at=utc_from_ms(e.created_ms),
            previous_secret_expires_at=utc_from_ms(max(previous)) if previous else None,
        )


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        description="Standard Webhooks signing secret. Shown only now: store it where your receiver reads it.",
    )


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(examples=[200])
    error: str | None = Field(examples=[None, "timeout (ReadTimeout)"])
    latency_ms: int

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            attempt=a.number,
            at=utc_from_ms(a.at_ms),
            status_code=a.status_code,
            error=a.error,
            latency_ms=a.latency_ms,
        )


class DeliveryOut(BaseModel):
    message_id: str = Field(examples=["msg_0b5e8d2c4f1a9e7d3c6b5a4f2e"], description="the webhook-id header")
    event_type: str = Field(examples=["alert.triggered"])
    event_id: str
    status: str = Field(examples=["pending"], description="pending, succeeded, failed or cancelled")
    created_at: datetime
    next_retry_at: datetime | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            message_id=d.message_id,
            event_type=d.event_type,
            event_id=d.event_id,
            status=d.status.value,
            created_at=utc_from_ms(d.created_ms),
            next_retry_at=None if d.next_attempt_ms is None else utc_from_ms(d.next_attempt_ms),
            attempts=[AttemptOut.of(a) for a in d.attempts],
        )


class TestOut(BaseModel):
    outcome: str = Field(examples=["delivered"], description="delivered, retry_scheduled, failed, ...")
    delivery: DeliveryOut


@router.post(
    "/api/webhooks",
    response_model=WebhookWithSecretOut,
    status_code=201,
    summary="Register a webhook endpoint (its secret is shown only in this answer)",
)
def create(body: WebhookIn, user: CurrentUser, services: Services) -> WebhookWithSecretOut:
    endpoint, secret = services.webhooks.create(user, body.url, body.description, body.event_types)
    return WebhookWithSecretOut(**WebhookOut.of(endpoint).model_dump(), secret=secret)


@router.get("/api/webhooks", response_model=list[WebhookOut], summary="Your webhook endpoints (no secrets)")
def list_endpoints(user: CurrentUser, services: Services) -> list[WebhookOut]:
    return [WebhookOut.of(e) for e in services.webhooks.list(user)]


@router.delete(
    "/api/webhooks/{endpoint_id}", status_code=204, summary="Delete an endpoint (stops its retries)"
)
def delete(endpoint_id: str, user: CurrentUser, services: Services) -> Response:
    services.webhooks.delete(user, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/api/webhooks/{endpoint_id}/rotate",
    response_model=WebhookWithSecretOut,
    summary="New signing secret (shown once); the previous one keeps signing alongside for 24 hours",
)
def rotate(endpoint_id: str, user: CurrentUser, services: Services) -> WebhookWithSecretOut:
    endpoint, secret = services.webhooks.rotate(user, endpoint_id)
    return WebhookWithSecretOut(**WebhookOut.of(endpoint).model_dump(), secret=secret)


@router.post(
    "/api/webhooks/{endpoint_id}/test",
    response_model=TestOut,
    summary="Send a webhook.test event now (retried like any other if it fails)",
)
def test(endpoint_id: str, user: CurrentUser, services: Services) -> TestOut:
    delivery, outcome = services.webhooks.test(user, endpoint_id)
    return TestOut(outcome=outcome.value, delivery=DeliveryOut.of(delivery))


@router.get(
    "/api/webhooks/{endpoint_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="The delivery log, newest first: attempts, status codes or errors, latency, next retry",
)
def deliveries(
    endpoint_id: str, user: CurrentUser, services: Services, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[DeliveryOut]:
    return [DeliveryOut.of(d) for d in services.webhooks.deliveries(user, endpoint_id, limit)]
