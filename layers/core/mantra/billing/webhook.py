"""Stripe webhooks: verified on the raw body, recorded once per event id.

Handling of each event type (subscriptions, invoices, dunning) plugs in behind ``record``; until then every
verified event is stored and acknowledged, and unknown types are acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Protocol

from pydantic import BaseModel

from mantra.clock import Clock
from mantra.errors import Invalid

TOLERANCE_S = 300


class WebhookResult(BaseModel):
    event_id: str
    event_type: str
    duplicate: bool


class BillingEventStore(Protocol):
    """Port implemented in store: put the event if its id is new."""

    def put_if_absent(self, event: dict[str, Any], received_ms: int) -> bool: ...


def verify(payload: bytes, signature_header: str | None, secret: str, now_s: int) -> dict[str, Any]:
    """Stripe's scheme: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``, within 300 s either side of now."""
    if not signature_header:
        raise Invalid("Stripe-Signature header is missing")
    pairs = [p.split("=", 1) for p in signature_header.split(",") if "=" in p]
    signatures = [v.strip() for k, v in pairs if k.strip() == "v1"]
    try:
        ts = int(next(v for k, v in pairs if k.strip() == "t"))
    except (StopIteration, ValueError) as exc:
        raise Invalid("Stripe-Signature header is malformed: no timestamp") from exc
    if not signatures:
        raise Invalid("Stripe-Signature header has no v1 signature")
    if ts > now_s + TOLERANCE_S:
        raise Invalid("Stripe-Signature timestamp is in the future")
    if ts < now_s - TOLERANCE_S:
        raise Invalid(f"Stripe-Signature timestamp is older than {TOLERANCE_S} s (a replay?)")
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise Invalid("signature verification failed: no signature matches the payload")
    try:
        event: dict[str, Any] = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("body is not UTF-8 JSON") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise Invalid("body is not a Stripe event")
    return event


class StripeWebhookService:
    def __init__(self, store: BillingEventStore, secret: str, clock: Clock) -> None:
        self._store, self._secret, self._clock = store, secret, clock

    def receive(self, payload: bytes, signature_header: str | None) -> WebhookResult:
        now_ms = self._clock.now_ms()
        event = verify(payload, signature_header, self._secret, now_ms // 1000)
        fresh = self._store.put_if_absent(event, now_ms)
        return WebhookResult(event_id=event["id"], event_type=event["type"], duplicate=not fresh)
