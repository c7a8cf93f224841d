"""Webhook services: the API's endpoint management, the delivery of one attempt, the fan-out channel and the
retry sweep that ``webhook_retry`` runs every minute."""

from __future__ import annotations

import builtins
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from pydantic import BaseModel

from mantra.alerts.webhooks import signing
from mantra.alerts.webhooks.models import (
    EVENT_TYPES,
    MAX_ENDPOINTS_PER_TENANT,
    ROTATION_OVERLAP_MS,
    TEST_EVENT,
    Attempt,
    Delivery,
    DeliveryStatus,
    EndpointStatus,
    SigningSecret,
    WebhookEndpoint,
    message_id,
)
from mantra.alerts.webhooks.ports import WebhookDeliveryRepository, WebhookEndpointRepository
from mantra.alerts.webhooks.schedule import RetrySchedule
from mantra.alerts.webhooks.ssrf import UnsafeUrl, UrlGuard
from mantra.alerts.webhooks.transport import HttpResult, HttpSender
from mantra.clock import Clock, utc_from_ms
from mantra.domain import User
from mantra.errors import Invalid, LimitExceeded, NotFound

log = logging.getLogger(__name__)

LEASE_MS = 60_000  # a claimed attempt that never records (crash) is due again after this
KEEP_DELIVERIES_DAYS = 30


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    FAILED = "failed"
    ENDPOINT_DISABLED = "endpoint_disabled"  # 410 Gone
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"  # this event already went (or is going) to this endpoint
    SKIPPED = "skipped"  # someone else holds the attempt


def event_body(event_type: str, payload: dict[str, object], at_ms: int) -> str:
    """The Standard Webhooks envelope: type, timestamp, data."""
    envelope = {"type": event_type, "timestamp": utc_from_ms(at_ms).isoformat(), "data": payload}
    return json.dumps(envelope, separators=(",", ":"), default=str, ensure_ascii=False)


class WebhookDeliverer:
    """Records deliveries and makes one attempt at a time, claimed so each attempt is sent once."""

    def __init__(
        self,
        endpoints: WebhookEndpointRepository,
        deliveries: WebhookDeliveryRepository,
        guard: UrlGuard,
        sender: HttpSender,
        clock: Clock,
        schedule: RetrySchedule | None = None,
    ) -> None:
        self.endpoints, self.deliveries = endpoints, deliveries
        self._guard, self._sender, self._clock = guard, sender, clock
        self.schedule = schedule or RetrySchedule()

    def enqueue(
        self, endpoint: WebhookEndpoint, event_type: str, event_id: str, payload: dict[str, object]
    ) -> Delivery | None:
        """The pending delivery, due now; None if this event was already recorded for this endpoint."""
        now = self._clock.now_ms()
        delivery = Delivery(
            message_id=message_id(event_id, endpoint.endpoint_id),
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.endpoint_id,
            event_type=event_type,
            event_id=event_id,
            body=event_body(event_type, payload, now),
            status=DeliveryStatus.PENDING,
            next_attempt_ms=now,
            created_ms=now,
        )
        return delivery if self.deliveries.put_if_absent(delivery, KEEP_DELIVERIES_DAYS) else None

    def attempt(self, delivery: Delivery) -> Outcome:
        """Claim the due attempt, send it, record what happened and when to try again."""
        if delivery.status is not DeliveryStatus.PENDING or delivery.next_attempt_ms is None:
            return Outcome.SKIPPED
        now = self._clock.now_ms()
        lease = now + LEASE_MS
        if not self.deliveries.claim(delivery.message_id, delivery.next_attempt_ms, lease):
            return Outcome.SKIPPED
        endpoint = self.endpoints.get(delivery.tenant_id, delivery.endpoint_id)
        if endpoint is None or endpoint.status is not EndpointStatus.ACTIVE:
            self.deliveries.record(delivery.message_id, lease, None, DeliveryStatus.CANCELLED, None)
            return Outcome.CANCELLED
        number = len(delivery.attempts) + 1
        result = self._send(endpoint, delivery, now)
        attempt = Attempt(
            number=number,
            at_ms=now,
            status_code=result.status_code,
            error=result.error,
            latency_ms=result.latency_ms,
        )
        history = (*delivery.attempts, attempt)
        if result.ok:
            self.deliveries.record(delivery.message_id, lease, history, DeliveryStatus.SUCCEEDED, None)
            return Outcome.DELIVERED
        if result.status_code == 410:
            reason = f"the endpoint answered 410 Gone to {delivery.message_id}"
            self.endpoints.disable(endpoint.tenant_id, endpoint.endpoint_id, reason, now)
            self.deliveries.record(delivery.message_id, lease, history, DeliveryStatus.FAILED, None)
            log.info("webhook endpoint %s disabled: 410 Gone", endpoint.endpoint_id)
            return Outcome.ENDPOINT_DISABLED
        delay = self.schedule.delay_ms(number)
        if delay is None:
            self.deliveries.record(delivery.message_id, lease, history, DeliveryStatus.FAILED, None)
            return Outcome.FAILED
        next_ms = now + result.latency_ms + delay
        self.deliveries.record(delivery.message_id, lease, history, DeliveryStatus.PENDING, next_ms)
        return Outcome.RETRY_SCHEDULED

    def _send(self, endpoint: WebhookEndpoint, delivery: Delivery, now_ms: int) -> HttpResult:
        try:
            target = self._guard.check(endpoint.url)
        except (
            UnsafeUrl
        ) as exc:  # DNS changed since registration: refused, and retried later like any failure
            return HttpResult(None, f"refused: {exc.message}", 0)
        body = delivery.body.encode()
        headers = signing.sign_headers(
            endpoint.live_secrets(now_ms), delivery.message_id, now_ms // 1000, body
        )
        try:
            return self._sender.post(target, body, headers)
        except Exception as exc:  # a sender bug must not lose the attempt: record it and retry
            log.exception("webhook send crashed for %s", delivery.message_id)
            return HttpResult(None, f"internal error: {exc.__class__.__name__}", 0)


def _parallel(fn: Callable[[Delivery], Outcome], items: list[Delivery], workers: int) -> list[Outcome]:
    if len(items) <= 1 or workers <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


class WebhookChannel:
    """alert_dispatch's webhook channel: fan an event out to the tenant's subscribed endpoints.

    Each endpoint gets one delivery record (a conditional put keyed by the deterministic message id, so a
    redelivered event is not sent twice) and one inline attempt with short timeouts, the endpoints in parallel;
    failures are left pending for ``webhook_retry``.
    """

    def __init__(self, deliverer: WebhookDeliverer, max_parallel: int = 8) -> None:
        self._deliverer, self._max_parallel = deliverer, max_parallel

    def send(self, tenant_id: str, event_type: str, event_id: str, payload: dict[str, object]) -> list[str]:
        """Per endpoint ``"{endpoint_id}:{outcome}"`` (outcomes: see ``Outcome``); [] when none subscribes."""
        endpoints = [e for e in self._deliverer.endpoints.list(tenant_id) if e.subscribed(event_type)]
        statuses: dict[str, str] = {}
        pending: list[Delivery] = []
        for endpoint in endpoints:
            delivery = self._deliverer.enqueue(endpoint, event_type, event_id, payload)
            if delivery is None:
                statuses[endpoint.endpoint_id] = Outcome.DUPLICATE.value
            else:
                pending.append(delivery)
        for delivery, outcome in zip(
            pending, _parallel(self._deliverer.attempt, pending, self._max_parallel), strict=True
        ):
            statuses[delivery.endpoint_id] = outcome.value
        return [f"{e.endpoint_id}:{statuses[e.endpoint_id]}" for e in endpoints]


class RetryReport(BaseModel):
    due: int
    outcomes: dict[str, int]


class WebhookRetry:
    """The every-minute sweep: send every due attempt (claimed first, so overlapping runs send each once)."""

    def __init__(
        self,
        deliverer: WebhookDeliverer,
        clock: Clock,
        batch: int = 200,
        budget_s: float = 40.0,
        workers: int = 8,
    ) -> None:
        self._deliverer, self._clock = deliverer, clock
        self._batch, self._budget_s, self._workers = batch, budget_s, workers

    def run(self) -> RetryReport:
        deadline = time.monotonic() + self._budget_s
        due = self._deliverer.deliveries.due(self._clock.now_ms(), self._batch)

        def attempt(d: Delivery) -> Outcome:
            # past the budget, leave the rest for the next minute rather than overrun the function timeout
            return Outcome.SKIPPED if time.monotonic() > deadline else self._deliverer.attempt(d)

        counts: dict[str, int] = {}
        for outcome in _parallel(attempt, due, self._workers):
            counts[outcome.value] = counts.get(outcome.value, 0) + 1
        return RetryReport(due=len(due), outcomes=counts)


class WebhookService:
    """What the API does with a tenant's endpoints. Secrets are returned once (create, rotate), never listed."""

    def __init__(
        self,
        deliverer: WebhookDeliverer,
        guard: UrlGuard,
        clock: Clock,
        max_endpoints: int = MAX_ENDPOINTS_PER_TENANT,
    ) -> None:
        self._deliverer, self._guard, self._clock = deliverer, guard, clock
        self._endpoints = deliverer.endpoints
        self._max = max_endpoints

    def create(
        self, user: User, url: str, description: str, event_types: Iterable[str]
    ) -> tuple[WebhookEndpoint, str]:
        types = tuple(dict.fromkeys(event_types))
        unknown = [t for t in types if t not in EVENT_TYPES]
        if not types or unknown:
            raise Invalid(
                f"event_types must be a non-empty subset of {', '.join(EVENT_TYPES)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        self._guard.check(url)  # UnsafeUrl is Invalid: 422 with the reason
        if self._endpoints.count(user.tenant_id) >= self._max:
            raise LimitExceeded(f"at most {self._max} webhook endpoints per account; delete one first")
        now = self._clock.now_ms()
        secret = signing.generate_secret()
        endpoint = WebhookEndpoint(
            endpoint_id=f"we_{now:013d}_{secrets.token_hex(4)}",
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            url=url,
            description=description,
            event_types=types,
            secrets=(SigningSecret(secret=secret),),
            status=EndpointStatus.ACTIVE,
            created_ms=now,
        )
        self._endpoints.create(endpoint)
        return endpoint, secret

    def list(self, user: User) -> list[WebhookEndpoint]:
        return self._endpoints.list(user.tenant_id)

    def get(self, user: User, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self._endpoints.get(user.tenant_id, endpoint_id)
        if endpoint is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint

    def delete(self, user: User, endpoint_id: str) -> None:
        if not self._endpoints.delete(user.tenant_id, endpoint_id):
            raise NotFound(f"no webhook endpoint {endpoint_id}")

    def rotate(self, user: User, endpoint_id: str) -> tuple[WebhookEndpoint, str]:
        """A new secret signs from now on; the previous one keeps signing alongside for 24 hours."""
        endpoint = self.get(user, endpoint_id)
        now = self._clock.now_ms()
        secret = signing.generate_secret()
        kept = [
            s
            if s.expires_ms is not None
            else SigningSecret(secret=s.secret, expires_ms=now + ROTATION_OVERLAP_MS)
            for s in endpoint.secrets
            if s.expires_ms is None or s.expires_ms > now
        ]
        new_secrets = [SigningSecret(secret=secret), *kept]
        if not self._endpoints.set_secrets(user.tenant_id, endpoint_id, new_secrets):
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint.model_copy(update={"secrets": tuple(new_secrets)}), secret

    def test(self, user: User, endpoint_id: str) -> tuple[Delivery, Outcome]:
        """Send a ``webhook.test`` event to this endpoint now (retried like any other if it fails)."""
        endpoint = self.get(user, endpoint_id)
        if endpoint.status is not EndpointStatus.ACTIVE:
            raise Invalid(f"webhook endpoint {endpoint_id} is disabled ({endpoint.disabled_reason})")
        now = self._clock.now_ms()
        event_id = f"evt_test_{now:013d}_{secrets.token_hex(4)}"
        payload: dict[str, object] = {"endpoint_id": endpoint_id, "message": "Trade Mantra webhook test"}
        delivery = self._deliverer.enqueue(endpoint, TEST_EVENT, event_id, payload)
        assert delivery is not None  # a fresh event id
        outcome = self._deliverer.attempt(delivery)
        return self._deliverer.deliveries.get(delivery.message_id) or delivery, outcome

    def deliveries(self, user: User, endpoint_id: str, limit: int = 50) -> builtins.list[Delivery]:
        self.get(user, endpoint_id)
        return self._deliverer.deliveries.for_endpoint(user.tenant_id, endpoint_id, limit)
