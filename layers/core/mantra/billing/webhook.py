"""Stripe webhooks: verified on the raw body, applied once per event id, in whatever order they arrive.

Each handled event becomes one ``BillingChange`` (account, history, invoice, notices, the users' plan) written in
one transaction together with the event's id, so a duplicate changes nothing and a crash leaves nothing half
done. Unknown event types are stored, acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel

from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.rules import BillingRules
from mantra.clock import Clock
from mantra.errors import Invalid
from mantra.settings import Settings

TOLERANCE_S = 300


class WebhookResult(BaseModel):
    event_id: str
    event_type: str
    duplicate: bool
    handled: bool = True
    applied: bool = False  # False: recorded, but older than the state held (or nothing to change)
    tenant_id: str | None = None


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


class BillingBusy(Exception):
    """The account kept changing under us; Stripe retries the event (non-2xx answer)."""


class StripeWebhookService:
    def __init__(
        self, store: BillingStore, plans: PlanSource, secret: str, settings: Settings, clock: Clock
    ) -> None:
        self._store, self._secret, self._clock = store, secret, clock
        self._rules = BillingRules(store, plans, settings)

    def receive(self, payload: bytes, signature_header: str | None) -> WebhookResult:
        now_ms = self._clock.now_ms()
        event = verify(payload, signature_header, self._secret, now_ms // 1000)
        result = WebhookResult(event_id=event["id"], event_type=event["type"], duplicate=False)
        if self._store.event_seen(event["id"]):
            return result.model_copy(update={"duplicate": True})
        if not self._rules.handles(event["type"]):
            fresh = self._store.commit(self._rules.ignored(event, now_ms))
            return result.model_copy(update={"duplicate": not fresh, "handled": False})
        for _ in range(5):  # optimistic concurrency: re-read and re-apply if the account moved
            change = self._rules.change_for(event, now_ms)
            if self._store.commit(change):
                return result.model_copy(
                    update={
                        "applied": change.account is not None,
                        "tenant_id": change.account.tenant_id if change.account else None,
                    }
                )
            if self._store.event_seen(event["id"]):
                return result.model_copy(update={"duplicate": True})
        raise BillingBusy(f"event {event['id']}: the billing account kept changing; retry")
