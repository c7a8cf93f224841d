"""Webhook endpoints and deliveries in DynamoDB."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import DeleteError, PutError
from pynamodb.expressions.update import Action

from mantra.alerts.webhooks.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    EndpointStatus,
    SigningSecret,
    WebhookEndpoint,
)
from mantra.store.repositories import _conditional_failed, _expiry, update_if
from mantra.store.webhook_models import DUE, WebhookDeliveryItem, WebhookEndpointItem


class DynamoWebhookEndpointRepository:
    def create(self, endpoint: WebhookEndpoint) -> None:
        WebhookEndpointItem(
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.endpoint_id,
            user_id=endpoint.user_id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            signing_secrets=_secrets_out(endpoint.secrets),
            status=endpoint.status.value,
            created_ms=endpoint.created_ms,
        ).save(condition=WebhookEndpointItem.endpoint_id.does_not_exist())

    def get(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        try:
            return _endpoint(WebhookEndpointItem.get(tenant_id, endpoint_id, consistent_read=True))
        except WebhookEndpointItem.DoesNotExist:
            return None

    def list(self, tenant_id: str) -> list[WebhookEndpoint]:
        return [_endpoint(i) for i in WebhookEndpointItem.query(tenant_id)]

    def count(self, tenant_id: str) -> int:
        return WebhookEndpointItem.count(tenant_id, consistent_read=True)

    def delete(self, tenant_id: str, endpoint_id: str) -> bool:
        try:
            WebhookEndpointItem(tenant_id=tenant_id, endpoint_id=endpoint_id).delete(
                condition=WebhookEndpointItem.endpoint_id.exists()
            )
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def set_secrets(self, tenant_id: str, endpoint_id: str, secrets: builtins.list[SigningSecret]) -> bool:
        return self._update(
            tenant_id, endpoint_id, [WebhookEndpointItem.signing_secrets.set(_secrets_out(secrets))]
        )

    def disable(self, tenant_id: str, endpoint_id: str, reason: str, at_ms: int) -> None:
        self._update(
            tenant_id,
            endpoint_id,
            [
                WebhookEndpointItem.status.set(EndpointStatus.DISABLED.value),
                WebhookEndpointItem.disabled_reason.set(reason),
                WebhookEndpointItem.disabled_ms.set(at_ms),
            ],
        )

    @staticmethod
    def _update(tenant_id: str, endpoint_id: str, actions: builtins.list[Action]) -> bool:
        return update_if(
            WebhookEndpointItem(tenant_id=tenant_id, endpoint_id=endpoint_id),
            actions,
            WebhookEndpointItem.endpoint_id.exists(),
        )


class DynamoWebhookDeliveryRepository:
    def put_if_absent(self, delivery: Delivery, keep_days: int) -> bool:
        item = WebhookDeliveryItem(
            message_id=delivery.message_id,
            tenant_id=delivery.tenant_id,
            endpoint_id=delivery.endpoint_id,
            endpoint_key=f"{delivery.tenant_id}#{delivery.endpoint_id}",
            event_type=delivery.event_type,
            event_id=delivery.event_id,
            body=delivery.body,
            status=delivery.status.value,
            attempts=[a.model_dump() for a in delivery.attempts],
            next_attempt_ms=delivery.next_attempt_ms,
            due=DUE if delivery.status is DeliveryStatus.PENDING else None,
            created_ms=delivery.created_ms,
        )
        item.expires_at = _expiry(delivery.created_ms, keep_days)
        try:
            item.save(condition=WebhookDeliveryItem.message_id.does_not_exist())
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def get(self, message_id: str) -> Delivery | None:
        try:
            return _delivery(WebhookDeliveryItem.get(message_id, consistent_read=True))
        except WebhookDeliveryItem.DoesNotExist:
            return None

    def due(self, now_ms: int, limit: int) -> list[Delivery]:
        items = WebhookDeliveryItem.due_attempts.query(
            DUE, WebhookDeliveryItem.next_attempt_ms <= now_ms, limit=limit
        )
        return [_delivery(i) for i in items]

    def claim(self, message_id: str, expected_next_ms: int, lease_until_ms: int) -> bool:
        return update_if(
            WebhookDeliveryItem(message_id=message_id),
            [WebhookDeliveryItem.next_attempt_ms.set(lease_until_ms)],
            (WebhookDeliveryItem.status == DeliveryStatus.PENDING.value)
            & (WebhookDeliveryItem.next_attempt_ms == expected_next_ms),
        )

    def record(
        self,
        message_id: str,
        lease_until_ms: int,
        attempts: Sequence[Attempt] | None,
        status: DeliveryStatus,
        next_attempt_ms: int | None,
    ) -> bool:
        actions: list[Action] = [WebhookDeliveryItem.status.set(status.value)]
        if attempts is not None:  # the whole log: we hold the claim, nobody else writes it meanwhile
            actions.append(WebhookDeliveryItem.attempts.set([a.model_dump() for a in attempts]))
        if next_attempt_ms is None:
            actions += [WebhookDeliveryItem.next_attempt_ms.remove(), WebhookDeliveryItem.due.remove()]
        else:
            actions.append(WebhookDeliveryItem.next_attempt_ms.set(next_attempt_ms))
        return update_if(
            WebhookDeliveryItem(message_id=message_id),
            actions,
            (WebhookDeliveryItem.status == DeliveryStatus.PENDING.value)
            & (WebhookDeliveryItem.next_attempt_ms == lease_until_ms),
        )

    def for_endpoint(self, tenant_id: str, endpoint_id: str, limit: int) -> builtins.list[Delivery]:
        items = WebhookDeliveryItem.by_endpoint.query(
            f"{tenant_id}#{endpoint_id}", scan_index_forward=False, limit=limit
        )
        return [_delivery(i) for i in items]


def _secrets_out(secrets: Any) -> list[dict[str, Any]]:
    return [{"secret": s.secret, "expires_ms": s.expires_ms} for s in secrets]


def _endpoint(item: WebhookEndpointItem) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=item.endpoint_id,
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        url=item.url,
        description=item.description,
        event_types=tuple(item.event_types or ()),
        secrets=tuple(SigningSecret(**s) for s in item.signing_secrets),
        status=EndpointStatus(item.status),
        created_ms=int(item.created_ms),
        disabled_reason=item.disabled_reason,
        disabled_ms=None if item.disabled_ms is None else int(item.disabled_ms),
    )


def _delivery(item: WebhookDeliveryItem) -> Delivery:
    return Delivery(
        message_id=item.message_id,
        tenant_id=item.tenant_id,
        endpoint_id=item.endpoint_id,
        event_type=item.event_type,
        event_id=item.event_id,
        body=item.body,
        status=DeliveryStatus(item.status),
        attempts=tuple(Attempt(**a) for a in item.attempts or ()),
        next_attempt_ms=None if item.next_attempt_ms is None else int(item.next_attempt_ms),
        created_ms=int(item.created_ms),
    )
