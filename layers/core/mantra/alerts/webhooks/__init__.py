"""User webhooks: signed (Standard Webhooks), SSRF-safe, retried with backoff for hours.

``WebhookChannel.send`` is the integration point for alert delivery.
"""

from mantra.alerts.webhooks.service import (
    Outcome,
    WebhookChannel,
    WebhookDeliverer,
    WebhookRetry,
    WebhookService,
)

__all__ = ["Outcome", "WebhookChannel", "WebhookDeliverer", "WebhookRetry", "WebhookService"]
