"""Stripe-shaped objects and events, signed as Stripe signs them.

One place for the shapes the platform's webhook reducer reads, shared by the local Stripe stand-in, the
``mantra stripe trigger`` command and the tests, so the three cannot drift apart. Pure: no I/O, no clock
(timestamps are passed in), amounts are integers in minor units.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

API_VERSION = "2026-10-28.endive"

INTERVAL_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}


def new_id(prefix: str) -> str:
    """A Stripe-looking id (``cus_``, ``sub_``, ``evt_`` ...): random, so never reused across runs."""
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: bytes, secret: str, ts: int) -> str:
    """The ``Stripe-Signature`` header value: ``t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def build_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    created: int,
    event_id: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """A Stripe event envelope around ``obj`` (a snapshot: later changes to ``obj`` do not show)."""
    data: dict[str, Any] = {"object": _copy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = _copy(previous_attributes)
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


def price(
    *,
    price_id: str,
    lookup_key: str | None,
    unit_amount: int,
    currency: str,
    interval: str | None = "month",
    product: str | None = None,
    created: int = 0,
    active: bool = True,
    nickname: str | None = None,
) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": active,
        "created": created,
        "currency": currency.lower(),
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": {},
        "nickname": nickname,
        "product": product or new_id("prod"),
        "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"}
        if interval
        else None,
        "type": "recurring" if interval else "one_time",
        "unit_amount": int(unit_amount),
    }


def subscription(
    *,
    customer: str,
    price: dict[str, Any],
    created: int,
    period_start: int,
    period_end: int,
    status: str = "active",
    metadata: dict[str, str] | None = None,
    sub_id: str | None = None,
    item_id: str | None = None,
    trial_start: int | None = None,
    trial_end: int | None = None,
    cancel_at_period_end: bool = False,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    quantity: int = 1,
) -> dict[str, Any]:
    """A subscription with one item; the period sits on the item (current API) and at the top (older readers)."""
    sub_id = sub_id or new_id("sub")
    item = {
        "id": item_id or new_id("si"),
        "object": "subscription_item",
        "created": created,
        "current_period_start": period_start,
        "current_period_end": period_end,
        "metadata": {},
        "price": _copy(price),
        "quantity": quantity,
        "subscription": sub_id,
    }
    return {
        "id": sub_id,
        "object": "subscription",
        "cancel_at": period_end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": price["currency"],
        "current_period_start": period_start,
        "current_period_end": period_end,
        "customer": customer,
        "ended_at": ended_at,
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "start_date": created,
        "status": status,
        "trial_end": trial_end,
        "trial_start": trial_start,
    }


def invoice_line(
    *,
    amount: int,
    currency: str,
    description: str,
    period_start: int,
    period_end: int,
    price: dict[str, Any] | None = None,
    proration: bool = False,
    metadata: dict[str, str] | None = None,
    line_id: str | None = None,
    invoice_item: str | None = None,
) -> dict[str, Any]:
    return {
        "id": line_id or new_id("il"),
        "object": "line_item",
        "amount": int(amount),
        "currency": currency.lower(),
        "description": description,
        "invoice_item": invoice_item,
        "metadata": dict(metadata or {}),
        "period": {"start": period_start, "end": period_end},
        "price": _copy(price) if price is not None else None,
        "proration": proration,
        "quantity": 1,
    }


def invoice(
    *,
    customer: str,
    subscription_id: str | None,
    lines: list[dict[str, Any]],
    currency: str,
    created: int,
    period_start: int,
    period_end: int,
    status: str = "paid",
    billing_reason: str = "subscription_cycle",
    invoice_id: str | None = None,
    attempt_count: int = 1,
    next_payment_attempt: int | None = None,
    metadata: dict[str, str] | None = None,
    number: str | None = None,
) -> dict[str, Any]:
    """An invoice; ``amount_paid`` is the total when paid, else 0. ``number`` is Stripe's sequential invoice
    number (``{customer's invoice prefix}-{NNNN}``), set when the invoice is finalized. The subscription id is both at the top
    (older API versions) and under ``parent.subscription_details`` (current)."""
    total = sum(int(line["amount"]) for line in lines)
    paid = status == "paid"
    return {
        "id": invoice_id or new_id("in"),
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "attempt_count": attempt_count,
        "attempted": attempt_count > 0,
        "billing_reason": billing_reason,
        "created": created,
        "currency": currency.lower(),
        "customer": customer,
        "lines": {"object": "list", "data": [_copy(line) for line in lines], "has_more": False},
        "livemode": False,
        "metadata": dict(metadata or {}),
        "next_payment_attempt": next_payment_attempt,
        "number": number,
        "paid": paid,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": dict(metadata or {})},
        }
        if subscription_id
        else None,
        "period_start": period_start,
        "period_end": period_end,
        "status": status,
        "status_transitions": {"paid_at": created if paid else None, "finalized_at": created},
        "subscription": subscription_id,
        "total": total,
    }


def checkout_session(
    *,
    customer: str,
    client_reference_id: str | None,
    created: int,
    metadata: dict[str, str] | None = None,
    subscription_id: str | None = None,
    status: str = "complete",
    session_id: str | None = None,
    url: str | None = None,
    success_url: str | None = None,
    cancel_url: str | None = None,
    amount_total: int = 0,
    currency: str = "inr",
    mode: str = "subscription",
) -> dict[str, Any]:
    complete = status == "complete"
    return {
        "id": session_id or new_id("cs_test"),
        "object": "checkout.session",
        "amount_total": int(amount_total),
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "created": created,
        "currency": currency.lower(),
        "customer": customer,
        "expires_at": created + 86_400,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "mode": mode,
        "payment_status": ("no_payment_required" if amount_total == 0 else "paid") if complete else "unpaid",
        "status": status,
        "subscription": subscription_id,
        "success_url": success_url,
        "url": None if complete else url,
    }


def _copy(value: Any) -> Any:
    """A deep copy of plain JSON data (cheaper and stricter than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
