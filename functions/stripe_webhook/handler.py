"""Stripe -> HTTP API -> verify the signature on the raw body, record the event once, answer 2xx/4xx."""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.billing.webhook import StripeWebhookService
from mantra.clock import SystemClock
from mantra.errors import Invalid
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.store import tables
from mantra.store.aws import read_secret
from mantra.store.repositories import DynamoBillingEventStore

logger, tracer, metrics = powertools("stripe_webhook")


@lru_cache
def service() -> StripeWebhookService:
    settings = get_settings()
    tables.configure(settings)
    secret = read_secret(settings, "stripe")["webhook_secret"]
    return StripeWebhookService(DynamoBillingEventStore(), secret, SystemClock())


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
    logger.info("stripe event recorded", extra=result.model_dump())
    return _response(200, {"received": True, **result.model_dump()})
