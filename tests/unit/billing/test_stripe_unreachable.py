"""Stripe unreachable is a 503 with Retry-After naming Stripe, never an internal error (found by the fault suite:
a checkout while the Stripe stand-in was down answered 500)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mantra.billing.gateway import StripeApiGateway
from mantra.errors import Unavailable

from frontend_api import errors


def _unreachable(*_: Any, **__: Any) -> Any:
    raise stripe.APIConnectionError("Could not connect to Stripe (connection refused)")


def test_every_gateway_call_that_cannot_reach_stripe_raises_unavailable() -> None:
    # Given the gateway whose SDK client cannot connect (after its own network retries)
    gateway = StripeApiGateway("sk_test_unit")
    down = SimpleNamespace(create=_unreachable, list=_unreachable, retrieve=_unreachable, update=_unreachable)
    gateway._client = SimpleNamespace(  # type: ignore[assignment]
        v1=SimpleNamespace(customers=down, prices=down, subscriptions=down, invoice_items=down)
    )
    # When a checkout needs a customer, or metering reads invoice items
    # Then each says Stripe is unavailable, chained to the SDK's error
    with pytest.raises(Unavailable, match="Stripe") as info:
        gateway.ensure_customer("tnt_1", "a@example.in", "A")
    assert isinstance(info.value.__cause__, stripe.APIConnectionError)
    with pytest.raises(Unavailable):
        gateway.price_id("pro_monthly")
    with pytest.raises(Unavailable):
        gateway.retrieve_subscription("sub_1")


def test_unavailable_is_answered_503_with_retry_after_and_the_reason() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/checkout")
    def checkout() -> None:
        raise Unavailable("payments provider (Stripe) unreachable; try again in a minute", retry_after_s=45)

    resp = TestClient(app).post("/checkout")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "45"
    assert resp.json()["detail"] == "payments provider (Stripe) unreachable; try again in a minute"
