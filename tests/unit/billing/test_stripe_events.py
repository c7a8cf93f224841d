"""The shared Stripe shapes and signature: what the stand-in, `mantra stripe trigger` and the reducer agree on."""

from __future__ import annotations

import json

import pytest
from mantra.billing import stripe_events as se
from mantra.billing.webhook import verify
from mantra.errors import Invalid

SECRET = "whsec_test_secret"


def _price() -> dict[str, object]:
    return se.price(price_id="price_1", lookup_key="pro_monthly", unit_amount=299900, currency="INR")


def test_signed_event_round_trips_through_the_platform_verifier() -> None:
    # Given an event signed by our helper
    event = se.build_event("invoice.paid", {"id": "in_1", "object": "invoice"}, created=1_700_000_000)
    payload = json.dumps(event).encode()
    header = se.sign(payload, SECRET, 1_700_000_000)
    # When the platform verifies it a minute later
    verified = verify(payload, header, SECRET, 1_700_000_060)
    # Then it is the same event
    assert verified == event
    assert header.startswith("t=1700000000,v1=")


def test_signature_with_another_secret_or_body_is_rejected() -> None:
    payload = b'{"id": "evt_1", "type": "x"}'
    with pytest.raises(Invalid):
        verify(payload, se.sign(payload, "whsec_other", 100), SECRET, 100)
    with pytest.raises(Invalid):
        verify(payload + b" ", se.sign(payload, SECRET, 100), SECRET, 100)


def test_event_envelope_has_stripes_fields_and_snapshots_the_object() -> None:
    obj = {"id": "sub_1", "object": "subscription", "status": "active"}
    event = se.build_event(
        "customer.subscription.updated",
        obj,
        created=5,
        previous_attributes={"status": "trialing"},
        idempotency_key="k1",
    )
    obj["status"] = "canceled"  # a later change does not leak into the sent event
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["livemode"] is False
    assert event["api_version"] == se.API_VERSION
    assert event["data"] == {
        "object": {"id": "sub_1", "object": "subscription", "status": "active"},
        "previous_attributes": {"status": "trialing"},
    }
    assert event["request"] == {"id": None, "idempotency_key": "k1"}
    assert "previous_attributes" not in se.build_event("x", obj, created=1)["data"]


def test_subscription_shape_carries_period_on_item_and_top_level() -> None:
    sub = se.subscription(
        customer="cus_1",
        price=_price(),
        created=10,
        period_start=10,
        period_end=20,
        status="trialing",
        metadata={"tenant_id": "t1", "plan_id": "pro"},
        trial_start=10,
        trial_end=20,
    )
    item = sub["items"]["data"][0]
    assert sub["id"].startswith("sub_") and item["id"].startswith("si_")
    assert (sub["current_period_start"], sub["current_period_end"]) == (10, 20)
    assert (item["current_period_start"], item["current_period_end"]) == (10, 20)
    assert item["price"]["lookup_key"] == "pro_monthly"
    assert item["price"]["recurring"]["interval"] == "month"
    assert sub["metadata"] == {"tenant_id": "t1", "plan_id": "pro"}
    for key in ("cancel_at_period_end", "canceled_at", "ended_at", "start_date", "trial_end", "customer"):
        assert key in sub


def test_invoice_totals_are_integer_sums_of_lines_and_name_the_subscription_twice() -> None:
    lines = [
        se.invoice_line(amount=299900, currency="inr", description="1 x Pro", period_start=0, period_end=1),
        se.invoice_line(
            amount=-1000, currency="inr", description="Unused", period_start=0, period_end=1, proration=True
        ),
    ]
    paid = se.invoice(
        customer="cus_1",
        subscription_id="sub_1",
        lines=lines,
        currency="INR",
        created=1,
        period_start=0,
        period_end=1,
    )
    assert paid["amount_due"] == paid["amount_paid"] == 298900
    assert isinstance(paid["amount_due"], int)
    assert paid["subscription"] == paid["parent"]["subscription_details"]["subscription"] == "sub_1"
    assert [line["proration"] for line in paid["lines"]["data"]] == [False, True]
    unpaid = se.invoice(
        customer="cus_1",
        subscription_id="sub_1",
        lines=lines,
        currency="inr",
        created=1,
        period_start=0,
        period_end=1,
        status="open",
        next_payment_attempt=99,
    )
    assert (unpaid["amount_paid"], unpaid["amount_due"], unpaid["next_payment_attempt"]) == (0, 298900, 99)


def test_checkout_session_complete_has_no_url_and_a_payment_status() -> None:
    done = se.checkout_session(
        customer="cus_1", client_reference_id="t1", created=1, subscription_id="sub_1", amount_total=0
    )
    assert done["object"] == "checkout.session"
    assert (done["status"], done["payment_status"], done["url"]) == ("complete", "no_payment_required", None)
    opened = se.checkout_session(
        customer="cus_1", client_reference_id="t1", created=1, status="open", url="u"
    )
    assert (opened["payment_status"], opened["url"]) == ("unpaid", "u")
