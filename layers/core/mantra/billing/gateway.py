"""Outgoing Stripe calls behind one small port.

Every call that creates or changes something carries an idempotency key the caller derives from what it is
doing (tenant, plan, period, ...), never from a random value: a re-invoked Lambda repeats the same key and
Stripe answers with the first result instead of doing the work twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

import stripe
from pydantic import BaseModel

from mantra.errors import Invalid, Unavailable

P = ParamSpec("P")
R = TypeVar("R")


def _reachable(call: Callable[P, R]) -> Callable[P, R]:
    """Stripe unreachable (after the SDK's own retries) is ``Unavailable``: a 503 with Retry-After at the API,
    a failed tenant to retry in the scheduled jobs; never an internal error."""

    @functools.wraps(call)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(*args, **kwargs)
        except stripe.APIConnectionError as exc:
            raise Unavailable("payments provider (Stripe) unreachable; try again in a minute") from exc

    return guarded


class CheckoutSession(BaseModel):
    session_id: str
    url: str


class SubscriptionStanding(BaseModel):
    """A subscription and its latest invoice as Stripe holds them now: read before any destructive step."""

    subscription_id: str
    status: str
    latest_invoice_id: str | None = None
    latest_invoice_status: str | None = None

    @property
    def paid(self) -> bool:
        """Paid up: the subscription is active (or trialing), or its latest invoice is paid."""
        return self.status in ("active", "trialing") or self.latest_invoice_status in ("paid", "void")


class InvoiceItemRef(BaseModel):
    """An invoice item already at Stripe: its id and the metadata it was posted with."""

    item_id: str
    amount_minor: int
    metadata: dict[str, str]


def standing(subscription: dict[str, Any]) -> SubscriptionStanding:
    """Read a subscription object, with ``latest_invoice`` expanded (an object) or not (an id)."""
    latest = subscription.get("latest_invoice")
    if isinstance(latest, dict):
        invoice_id, invoice_status = latest.get("id"), latest.get("status")
    else:
        invoice_id, invoice_status = latest, None
    return SubscriptionStanding(
        subscription_id=str(subscription["id"]),
        status=str(subscription.get("status") or "incomplete"),
        latest_invoice_id=str(invoice_id) if invoice_id else None,
        latest_invoice_status=str(invoice_status) if invoice_status else None,
    )


class StripeGateway(Protocol):
    def ensure_customer(self, tenant_id: str, email: str, name: str) -> str: ...
    def price_id(self, lookup_key: str) -> str: ...
    def create_checkout_session(
        self,
        *,
        tenant_id: str,
        customer_id: str,
        price_id: str,
        plan_id: str,
        trial_days: int,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession: ...
    def create_portal_session(self, customer_id: str, return_url: str) -> str: ...
    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]: ...
    def subscription_standing(self, subscription_id: str) -> SubscriptionStanding: ...
    def change_price(
        self, subscription_id: str, price_id: str, plan_id: str, idempotency_key: str
    ) -> dict[str, Any]: ...
    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, idempotency_key: str
    ) -> dict[str, Any]: ...
    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict[str, Any]: ...
    def create_invoice_item(
        self,
        *,
        customer_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str: ...
    def invoice_items(self, customer_id: str, created_gte_s: int) -> list[InvoiceItemRef]: ...


class StripeApiGateway:
    """The Stripe SDK's client; ``api_base`` points it at the local stand-in (empty: api.stripe.com)."""

    def __init__(self, api_key: str, api_base: str = "") -> None:
        bases: Any = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(api_key, base_addresses=bases, max_network_retries=2)
        self._prices: dict[str, str] = {}

    @property
    def v1(self) -> Any:
        return self._client.v1

    @_reachable
    def ensure_customer(self, tenant_id: str, email: str, name: str) -> str:
        customer = self.v1.customers.create(
            {"email": email, "name": name, "metadata": {"tenant_id": tenant_id}},
            {"idempotency_key": f"tm-customer-{tenant_id}"},
        )
        return str(customer.id)

    @_reachable
    def price_id(self, lookup_key: str) -> str:
        if lookup_key not in self._prices:
            found = self.v1.prices.list({"lookup_keys": [lookup_key], "active": True, "limit": 1})
            if not found.data:
                raise Invalid(
                    f"plan_id: no Stripe price with lookup key {lookup_key!r} (run mantra stripe sync)"
                )
            self._prices[lookup_key] = str(found.data[0].id)
        return self._prices[lookup_key]

    @_reachable
    def create_checkout_session(
        self,
        *,
        tenant_id: str,
        customer_id: str,
        price_id: str,
        plan_id: str,
        trial_days: int,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        meta = {"tenant_id": tenant_id, "plan_id": plan_id}
        sub: dict[str, Any] = {"metadata": meta}
        if trial_days:
            sub["trial_period_days"] = trial_days
        session = self.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": customer_id,
                "client_reference_id": tenant_id,
                "line_items": [{"price": price_id, "quantity": 1}],
                "subscription_data": sub,
                "metadata": meta,
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            {"idempotency_key": idempotency_key},
        )
        return CheckoutSession(session_id=str(session.id), url=str(session.url))

    @_reachable
    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        session = self.v1.billing_portal.sessions.create({"customer": customer_id, "return_url": return_url})
        return str(session.url)

    @_reachable
    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return _plain(self.v1.subscriptions.retrieve(subscription_id, {"expand": ["items.data.price"]}))

    @_reachable
    def subscription_standing(self, subscription_id: str) -> SubscriptionStanding:
        sub = self.v1.subscriptions.retrieve(subscription_id, {"expand": ["latest_invoice"]})
        return standing(_plain(sub))

    @_reachable
    def change_price(
        self, subscription_id: str, price_id: str, plan_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        current = self.v1.subscriptions.retrieve(subscription_id)
        item_id = current["items"]["data"][0]["id"]
        updated = self.v1.subscriptions.update(
            subscription_id,
            {
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations",
                "cancel_at_period_end": False,
                "metadata": {"plan_id": plan_id},
            },
            {"idempotency_key": idempotency_key},
        )
        return _plain(updated)

    @_reachable
    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, idempotency_key: str
    ) -> dict[str, Any]:
        updated = self.v1.subscriptions.update(
            subscription_id, {"cancel_at_period_end": cancel}, {"idempotency_key": idempotency_key}
        )
        return _plain(updated)

    @_reachable
    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(self.v1.subscriptions.cancel(subscription_id, {}, {"idempotency_key": idempotency_key}))

    @_reachable
    def create_invoice_item(
        self,
        *,
        customer_id: str,
        amount_minor: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str:
        item = self.v1.invoice_items.create(
            {
                "customer": customer_id,
                "amount": amount_minor,
                "currency": currency.lower(),
                "description": description,
                "metadata": metadata,
            },
            {"idempotency_key": idempotency_key},
        )
        return str(item.id)

    @_reachable
    def invoice_items(self, customer_id: str, created_gte_s: int) -> list[InvoiceItemRef]:
        """Every invoice item of the customer created since then, pending or invoiced (all pages)."""
        found = self.v1.invoice_items.list(
            {"customer": customer_id, "created": {"gte": created_gte_s}, "limit": 100}
        )
        items = [_plain(i) for i in found.auto_paging_iter()]
        return [
            InvoiceItemRef(
                item_id=str(i["id"]),
                amount_minor=int(i["amount"]),
                metadata={str(k): str(v) for k, v in (i.get("metadata") or {}).items()},
            )
            for i in items
        ]


def _plain(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data
