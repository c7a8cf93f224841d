"""Webhook endpoints (per tenant) and deliveries (one per event and endpoint, with their attempt log).

Deliveries carry two indexes: ``by_endpoint`` for the log a user reads, and the sparse ``due_attempts``: only a
pending delivery has ``due`` set, so the every-minute retry sweep reads just what is due.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel, TTLAttribute

DUE = "due"


class WebhookEndpointItem(BaseModel):
    base_name = "webhook_endpoints"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "webhook_endpoints"

    tenant_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)  # "we_{created_ms:013d}_{random}"
    user_id = UnicodeAttribute()
    url = UnicodeAttribute()
    description = UnicodeAttribute()
    event_types = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    # [{"secret": "whsec_...", "expires_ms": int | None}]: needed to sign, so kept (encrypted at rest by DynamoDB)
    signing_secrets = JSONAttribute()
    status = UnicodeAttribute()
    created_ms = NumberAttribute()
    disabled_reason = UnicodeAttribute(null=True)
    disabled_ms = NumberAttribute(null=True)


class DeliveriesByEndpoint(GlobalSecondaryIndex["WebhookDeliveryItem"]):
    class Meta:
        index_name = "by_endpoint"
        projection = AllProjection()

    endpoint_key = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{endpoint_id}"
    created_ms = NumberAttribute(range_key=True)


class DueAttempts(GlobalSecondaryIndex["WebhookDeliveryItem"]):
    """Sparse: only pending deliveries carry ``due``."""

    class Meta:
        index_name = "due_attempts"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    next_attempt_ms = NumberAttribute(range_key=True)


class WebhookDeliveryItem(BaseModel):
    base_name = "webhook_deliveries"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "webhook_deliveries"

    message_id = UnicodeAttribute(hash_key=True)  # deterministic per (event_id, endpoint_id)
    tenant_id = UnicodeAttribute()
    endpoint_id = UnicodeAttribute()
    endpoint_key = UnicodeAttribute()
    event_type = UnicodeAttribute()
    event_id = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    attempts = JSONAttribute()  # [{"number", "at_ms", "status_code", "error", "latency_ms"}]
    next_attempt_ms = NumberAttribute(null=True)
    due = UnicodeAttribute(null=True)
    created_ms = NumberAttribute()
    expires_at = TTLAttribute()
    by_endpoint = DeliveriesByEndpoint()
    due_attempts = DueAttempts()
