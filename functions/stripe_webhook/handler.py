"""Stripe -> HTTP API -> verify the signature on the raw body, apply the event once, answer 2xx/4xx/5xx."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.billing.webhook import BillingBusy, StripeWebhookService
from mantra.container import get_container
from mantra.errors import Invalid
from mantra.observability import powertools
from mantra.settings import get_settings

logger, tracer, metrics = powertools("stripe_webhook")


def service() -> StripeWebhookService:
    return get_container(get_settings()).stripe_webhooks


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raw = event.get("body") or ""
    payload = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        result = service().receive(payload, headers.get("stripe-signature"))
    except Invalid as exc:
        logger.warning("stripe webhook refused", extra={"reason": exc.message})
        return _response(400, {"detail": exc.message})
    except BillingBusy as exc:  # Stripe retries a non-2xx answer with backoff
        logger.warning("stripe webhook deferred", extra={"reason": str(exc)})
        return _response(503, {"detail": str(exc)})
    logger.info("stripe event handled", extra=result.model_dump())
    return _response(200, {"received": True, **result.model_dump()})


def init() -> None:
    """Read the endpoint secret and build the service before the first event."""
    service()
