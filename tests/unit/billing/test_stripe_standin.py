"""The local Stripe stand-in, in-process (Starlette TestClient) and through the real stripe SDK and gateway
over loopback: the calls StripeApiGateway makes, Checkout, prorations, idempotency and signed webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
import uvicorn
from mantra.billing import stripe_events as se
from mantra.billing.gateway import StripeApiGateway
from mantra.billing.webhook import verify
from mantra.devtools.standins import free_port
from mantra.devtools.stripe_standin import StripeStandin, parse_form
from starlette.testclient import TestClient

SECRET = "whsec_standin_test"
AUTH = {"Authorization": "Bearer sk_test_local"}


class Recorder:
    """A fake transport: keeps what would have been POSTed, answers with the next scripted status."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        self.statuses = statuses or []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.sent.append((body, headers))
        return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[dict[str, Any]]:
        return [verify(body, h["Stripe-Signature"], SECRET, int(time.time())) for body, h in self.sent]


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def standin(clock: Clock, recorder: Recorder) -> Iterator[StripeStandin]:
    s = StripeStandin(
        webhook_url="http://receiver.invalid/webhooks/stripe",
        webhook_secret=lambda: SECRET,
        clock=clock,
        transport=recorder,
        retry_delays_s=(0.01, 0.01),
    )
    yield s
    s.deliverer.stop()


@pytest.fixture
def client(standin: StripeStandin) -> TestClient:
    return TestClient(standin.app, headers=AUTH)


def _price(client: TestClient, key: str = "pro_monthly", amount: int = 299900) -> dict[str, Any]:
    resp = client.post(
        "/v1/prices",
        data={
            "lookup_key": key,
            "unit_amount": str(amount),
            "currency": "inr",
            "recurring[interval]": "month",
            "product_data[name]": key.split("_")[0].title(),
        },
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _subscribe(client: TestClient, trial_days: int = 0) -> tuple[str, dict[str, Any], dict[str, Any]]:
    customer = client.post("/v1/customers", data={"email": "a@b.in", "metadata[tenant_id]": "t1"}).json()
    price = _price(client)
    form = {
        "mode": "subscription",
        "customer": customer["id"],
        "client_reference_id": "t1",
        "line_items[0][price]": price["id"],
        "line_items[0][quantity]": "1",
        "subscription_data[metadata][tenant_id]": "t1",
        "subscription_data[metadata][plan_id]": "pro",
        "metadata[tenant_id]": "t1",
        "success_url": "http://app/ok?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app/cancel",
    }
    if trial_days:
        form["subscription_data[trial_period_days]"] = str(trial_days)
    session = client.post("/v1/checkout/sessions", data=form).json()
    done = client.post(f"/_test/checkout/{session['id']}/complete").json()
    sub = client.get(f"/v1/subscriptions/{done['subscription']}").json()
    return customer["id"], price, sub


def test_form_keys_in_stripes_bracket_encoding_parse_to_nested_data() -> None:
    parsed = parse_form(
        [
            ("items[0][id]", "si_1"),
            ("items[0][price]", "p"),
            ("lookup_keys[0]", "a"),
            ("lookup_keys[1]", "b"),
            ("expand[]", "x"),
            ("metadata[plan_id]", "pro"),
            ("active", "true"),
        ]
    )
    assert parsed == {
        "items": [{"id": "si_1", "price": "p"}],
        "lookup_keys": ["a", "b"],
        "expand": ["x"],
        "metadata": {"plan_id": "pro"},
        "active": "true",
    }


def test_requests_without_a_test_key_get_a_stripe_error_body(standin: StripeStandin) -> None:
    resp = TestClient(standin.app).post("/v1/customers", data={"email": "x@y.z"})
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "invalid_request_error"


def test_missing_object_is_a_404_with_resource_missing(client: TestClient) -> None:
    resp = client.get("/v1/subscriptions/sub_nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "resource_missing"


def test_a_lookup_key_belongs_to_one_price_unless_transferred(client: TestClient) -> None:
    first = _price(client)
    again = client.post(
        "/v1/prices",
        data={
            "lookup_key": "pro_monthly",
            "unit_amount": "1",
            "currency": "inr",
            "product": first["product"],
        },
    )
    assert again.status_code == 400 and "lookup key" in again.json()["error"]["message"]
    moved = client.post(
        "/v1/prices",
        data={
            "lookup_key": "pro_monthly",
            "transfer_lookup_key": "true",
            "unit_amount": "1",
            "currency": "inr",
            "product": first["product"],
        },
    ).json()
    found = client.get("/v1/prices", params={"lookup_keys[0]": "pro_monthly", "active": "true"}).json()
    assert [p["id"] for p in found["data"]] == [moved["id"]]


def test_checkout_completion_sends_three_signed_events_in_order(
    client: TestClient, standin: StripeStandin, recorder: Recorder
) -> None:
    # Given a checkout with a 14-day trial, When it completes
    _, _, sub = _subscribe(client, trial_days=14)
    assert standin.deliverer.wait_idle()
    # Then the receiver got, verified with the endpoint secret, the three events in order
    events = recorder.events()
    assert [e["type"] for e in events] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert [e["created"] for e in events] == sorted(e["created"] for e in events)
    session, created, invoice = (e["data"]["object"] for e in events)
    assert (session["status"], session["subscription"], session["client_reference_id"]) == (
        "complete",
        sub["id"],
        "t1",
    )
    assert created["status"] == "trialing"
    assert created["trial_end"] == created["trial_start"] + 14 * 86_400
    assert created["metadata"] == {"tenant_id": "t1", "plan_id": "pro"}
    assert created["items"]["data"][0]["price"]["lookup_key"] == "pro_monthly"
    assert (invoice["amount_paid"], invoice["billing_reason"], invoice["subscription"]) == (
        0,
        "subscription_create",
        sub["id"],
    )
    assert not any("_trial_days" in json.dumps(e) for e in events)  # private fields stay private


def test_checkout_without_trial_is_active_and_invoices_the_price(
    client: TestClient, recorder: Recorder
) -> None:
    _, price, sub = _subscribe(client)
    assert sub["status"] == "active" and sub["trial_end"] is None
    invoices = client.get("/v1/invoices", params={"customer": sub["customer"]}).json()["data"]
    assert [i["amount_paid"] for i in invoices] == [price["unit_amount"]]


def test_checkout_page_pays_and_redirects_to_success_url(client: TestClient) -> None:
    customer = client.post("/v1/customers", data={"email": "a@b.in"}).json()
    price = _price(client)
    session = client.post(
        "/v1/checkout/sessions",
        data={
            "mode": "subscription",
            "customer": customer["id"],
            "line_items[0][price]": price["id"],
            "success_url": "http://app/ok?session={CHECKOUT_SESSION_ID}",
        },
    ).json()
    assert session["url"].endswith(f"/checkout/{session['id']}")
    page = client.get(f"/checkout/{session['id']}")
    assert page.status_code == 200 and "Pay" in page.text
    paid = client.post(f"/checkout/{session['id']}/complete", follow_redirects=False)
    assert paid.status_code == 303 and paid.headers["location"] == f"http://app/ok?session={session['id']}"
    assert client.post(f"/_test/checkout/{session['id']}/complete").status_code == 400  # once only


def test_price_change_mid_period_creates_integer_proration_items(
    client: TestClient, standin: StripeStandin, recorder: Recorder, clock: Clock
) -> None:
    # Given an active Pro subscription a quarter into its 30-day period
    customer, pro, sub = _subscribe(client)
    elite = _price(client, "elite_monthly", 599900)
    clock.now += 30 * 86_400 / 4
    # When it moves to Elite with prorations
    resp = client.post(
        f"/v1/subscriptions/{sub['id']}",
        data={
            "items[0][id]": sub["items"]["data"][0]["id"],
            "items[0][price]": elite["id"],
            "proration_behavior": "create_prorations",
            "cancel_at_period_end": "false",
            "metadata[plan_id]": "elite",
        },
        headers={"Idempotency-Key": "change-1"},
    )
    assert resp.status_code == 200
    assert resp.json()["items"]["data"][0]["price"]["id"] == elite["id"]
    # Then two pending proration items: credit 3/4 of Pro, charge 3/4 of Elite
    items = client.get("/v1/invoiceitems", params={"customer": customer}).json()["data"]
    assert sorted(i["amount"] for i in items) == [-224925, 449925]
    assert all(i["proration"] and i["invoice"] is None for i in items)
    # And one updated event with what changed before
    assert standin.deliverer.wait_idle()
    updated = recorder.events()[-1]
    assert updated["type"] == "customer.subscription.updated"
    assert updated["request"]["idempotency_key"] == "change-1"
    previous = updated["data"]["previous_attributes"]
    assert previous["metadata"]["plan_id"] == "pro"
    assert previous["items"]["data"][0]["price"]["id"] == pro["id"]


def test_same_idempotency_key_replays_the_first_answer_and_does_nothing_new(
    client: TestClient, standin: StripeStandin
) -> None:
    customer = client.post("/v1/customers", data={"email": "a@b.in"}).json()
    form = {"customer": customer["id"], "amount": "5000", "currency": "inr", "description": "fee"}
    first = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-01"})
    again = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-01"})
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = client.get("/v1/invoiceitems", params={"customer": customer["id"]}).json()["data"]
    assert len(listed) == 1
    other = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-02"})
    assert other.json()["id"] != first.json()["id"]


def test_advance_ends_the_trial_and_collects_pending_items(
    client: TestClient, standin: StripeStandin, recorder: Recorder
) -> None:
    customer, price, sub = _subscribe(client, trial_days=14)
    client.post(
        "/v1/invoiceitems",
        data={"customer": customer, "amount": "12345", "currency": "inr", "metadata[kind]": "profit_share"},
    )
    done = client.post(f"/_test/subscriptions/{sub['id']}/advance").json()
    assert done["subscription"]["status"] == "active"
    assert done["subscription"]["current_period_start"] == sub["trial_end"]
    assert done["invoice"]["amount_paid"] == price["unit_amount"] + 12345
    assert done["invoice"]["billing_reason"] == "subscription_cycle"
    pending = client.get("/v1/invoiceitems", params={"customer": customer, "pending": "true"}).json()
    assert pending["data"] == []
    assert standin.deliverer.wait_idle()
    kinds = [e["type"] for e in recorder.events()][-2:]
    assert kinds == ["customer.subscription.updated", "invoice.paid"]
    assert recorder.events()[-2]["data"]["previous_attributes"]["status"] == "trialing"


def test_failed_payment_makes_the_subscription_past_due(
    client: TestClient, standin: StripeStandin, recorder: Recorder
) -> None:
    _, price, sub = _subscribe(client)
    first = client.post(f"/_test/subscriptions/{sub['id']}/fail_payment").json()
    second = client.post(f"/_test/subscriptions/{sub['id']}/fail_payment").json()
    assert first["invoice"]["id"] == second["invoice"]["id"]
    assert (second["invoice"]["status"], second["invoice"]["attempt_count"]) == ("open", 2)
    assert second["invoice"]["amount_due"] == price["unit_amount"]
    assert standin.deliverer.wait_idle()
    kinds = [e["type"] for e in recorder.events()][3:]
    assert kinds == ["invoice.payment_failed", "customer.subscription.updated", "invoice.payment_failed"]
    updated = recorder.events()[4]["data"]
    assert (updated["object"]["status"], updated["previous_attributes"]["status"]) == ("past_due", "active")
    assert recorder.events()[3]["data"]["object"]["next_payment_attempt"] is not None


def test_an_idempotency_key_is_forgotten_after_24_hours_as_stripe_forgets_it(
    client: TestClient, clock: Clock
) -> None:
    # Given an invoice item posted with a key
    customer = client.post("/v1/customers", data={"email": "a@b.in"}).json()
    form = {"customer": customer["id"], "amount": "5000", "currency": "inr"}
    first = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-01"}).json()
    # When the same key comes back 23 hours later, and again after 24 hours
    clock.now += 23 * 3_600
    replayed = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-01"})
    clock.now += 3_600
    expired = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "fee-2026-01"})
    # Then the first is a replay, the second makes a new item (the key had expired)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json()["id"] == first["id"]
    assert "Idempotent-Replayed" not in expired.headers and expired.json()["id"] != first["id"]


def test_the_test_clock_moves_object_times_and_key_expiry_forward(client: TestClient) -> None:
    customer = client.post("/v1/customers", data={"email": "a@b.in"}).json()
    form = {"customer": customer["id"], "amount": "5000", "currency": "inr"}
    first = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "k"}).json()
    moved = client.post("/_test/clock/advance", params={"seconds": str(25 * 3_600)}).json()
    later = client.post("/v1/invoiceitems", data=form, headers={"Idempotency-Key": "k"}).json()
    assert moved["offset_s"] == 25 * 3_600
    assert later["id"] != first["id"] and later["date"] == first["date"] + 25 * 3_600
    assert client.post("/_test/clock/advance", params={"seconds": "-1"}).status_code == 400


def test_invoice_items_list_newest_first_by_created_range_in_pages(client: TestClient, clock: Clock) -> None:
    customer = client.post("/v1/customers", data={"email": "a@b.in"}).json()["id"]
    made = []
    for n in range(5):
        clock.now += 60
        made.append(
            client.post(
                "/v1/invoiceitems", data={"customer": customer, "amount": str(n), "currency": "inr"}
            ).json()
        )
    since = {"customer": customer, "created[gte]": str(made[1]["date"]), "limit": "2"}
    page1 = client.get("/v1/invoiceitems", params=since).json()
    page2 = client.get("/v1/invoiceitems", params={**since, "starting_after": page1["data"][-1]["id"]}).json()
    assert [i["amount"] for i in page1["data"]] == [4, 3] and page1["has_more"] is True
    assert [i["amount"] for i in page2["data"]] == [2, 1] and page2["has_more"] is False


def test_paying_the_open_invoice_ends_past_due_with_paid_then_updated(
    client: TestClient, standin: StripeStandin, recorder: Recorder
) -> None:
    # Given a subscription past_due on a failed renewal
    _, price, sub = _subscribe(client)
    failed = client.post(f"/_test/subscriptions/{sub['id']}/fail_payment").json()["invoice"]
    # When the customer pays that invoice
    paid = client.post(f"/v1/invoices/{failed['id']}/pay").json()
    # Then it is paid, the subscription is active again, and its latest invoice expands to the paid one
    assert (paid["status"], paid["amount_paid"], paid["attempt_count"]) == ("paid", price["unit_amount"], 2)
    now = client.get(f"/v1/subscriptions/{sub['id']}", params={"expand[0]": "latest_invoice"}).json()
    assert now["status"] == "active" and now["latest_invoice"]["id"] == failed["id"]
    assert now["latest_invoice"]["status"] == "paid"
    assert client.get(f"/v1/subscriptions/{sub['id']}").json()["latest_invoice"] == failed["id"]
    assert client.post(f"/v1/invoices/{failed['id']}/pay").status_code == 400
    assert standin.deliverer.wait_idle()
    assert [e["type"] for e in recorder.events()][-2:] == ["invoice.paid", "customer.subscription.updated"]


def test_held_webhooks_are_sent_on_release_after_the_ones_not_held(
    client: TestClient, standin: StripeStandin, recorder: Recorder
) -> None:
    # Given a subscription, and the network holding back payment failures
    _, _, sub = _subscribe(client)
    assert client.post("/_test/webhooks/hold", params={"type": "invoice.payment_failed"}).status_code == 200
    # When a payment fails and is then paid, and the hold is released
    failed = client.post(f"/_test/subscriptions/{sub['id']}/fail_payment").json()["invoice"]
    client.post(f"/v1/invoices/{failed['id']}/pay")
    assert standin.deliverer.wait_idle()
    before_release = [e["type"] for e in recorder.events()][3:]
    released = client.post("/_test/webhooks/release").json()["released"]
    assert standin.deliverer.wait_idle()
    # Then the failure arrives last: after the paid it came before
    assert before_release == [
        "customer.subscription.updated",
        "invoice.paid",
        "customer.subscription.updated",
    ]
    assert [e["type"] for e in recorder.events()][-1] == "invoice.payment_failed"
    assert released == [recorder.events()[-1]["id"]]


def test_trial_will_end_needs_a_trial(client: TestClient) -> None:
    _, _, active = _subscribe(client)
    resp = client.post(f"/_test/subscriptions/{active['id']}/trial_will_end")
    assert resp.status_code == 400 and "not trialing" in resp.json()["error"]["message"]


def test_failed_deliveries_are_retried_then_recorded(clock: Clock) -> None:
    flaky = Recorder(statuses=[500, 503])
    s = StripeStandin(
        webhook_url="http://x.invalid/",
        webhook_secret=lambda: SECRET,
        transport=flaky,
        retry_delays_s=(0.01,) * 3,
    )
    client = TestClient(s.app, headers=AUTH)
    _, _, sub = _subscribe(client)
    client.post(f"/_test/subscriptions/{sub['id']}/trial_will_end")  # a 400: no event
    assert s.deliverer.wait_idle()
    events = client.get("/_test/events").json()["data"]
    assert [e["delivery"]["status"] for e in events] == ["delivered"] * 3
    assert sum(e["delivery"]["attempts"] for e in events) == 5  # two failures (500, 503) were retried
    s.deliverer.stop()


def test_state_file_keeps_objects_across_restarts(tmp_path: Any, recorder: Recorder) -> None:
    path = tmp_path / "stripe.json"
    first = StripeStandin(webhook_url=None, webhook_secret=lambda: SECRET, state_file=path)
    cid = TestClient(first.app, headers=AUTH).post("/v1/customers", data={"email": "a@b.in"}).json()["id"]
    first.deliverer.stop()
    second = StripeStandin(webhook_url=None, webhook_secret=lambda: SECRET, state_file=path)
    assert TestClient(second.app, headers=AUTH).get(f"/v1/customers/{cid}").status_code == 200
    second.deliverer.stop()


# ---- through the real SDK and the platform's gateway, over loopback --------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            self.received.append(verify(body, self.headers["Stripe-Signature"], SECRET, int(time.time())))
            self.send_response(200)
        except Exception:
            self.send_response(400)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, list[dict[str, Any]], StripeStandin]]:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    standin = StripeStandin(
        webhook_url=f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/stripe",
        webhook_secret=lambda: SECRET,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(standin.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", _Receiver.received, standin
    server.should_exit = True
    thread.join(5)
    standin.deliverer.stop()
    receiver.shutdown()


def test_platform_gateway_runs_its_whole_flow_against_the_standin(
    served: tuple[str, list[dict[str, Any]], StripeStandin],
) -> None:
    base, received, standin = served
    gw = StripeApiGateway("sk_test_local", base)
    sdk = stripe.StripeClient("sk_test_local", base_addresses={"api": base})
    for key, amount in (("trader_monthly", 99900), ("pro_monthly", 299900)):
        sdk.v1.prices.create(
            {
                "lookup_key": key,
                "unit_amount": amount,
                "currency": "inr",
                "recurring": {"interval": "month"},
                "product_data": {"name": key},
            }
        )
    # customers are idempotent per tenant
    customer = gw.ensure_customer("t1", "a@b.in", "A")
    assert gw.ensure_customer("t1", "a@b.in", "A") == customer
    trader = gw.price_id("trader_monthly")
    session = gw.create_checkout_session(
        tenant_id="t1",
        customer_id=customer,
        price_id=trader,
        plan_id="trader",
        trial_days=0,
        success_url="http://app/ok",
        cancel_url="http://app/no",
        idempotency_key="tm-checkout-t1-trader",
    )
    assert session.url == f"{base}/checkout/{session.session_id}"
    assert gw.create_portal_session(customer, "http://app/billing").startswith(f"{base}/portal/")
    done = sdk.v1.checkout.sessions.retrieve(session.session_id)
    assert done.status == "open"
    import httpx

    sub_id = httpx.post(f"{base}/_test/checkout/{session.session_id}/complete").json()["subscription"]
    sub = gw.retrieve_subscription(sub_id)
    assert sub["status"] == "active" and sub["metadata"]["plan_id"] == "trader"
    changed = gw.change_price(sub_id, gw.price_id("pro_monthly"), "pro", "tm-change-1")
    assert changed["items"]["data"][0]["price"]["lookup_key"] == "pro_monthly"
    prorations = sdk.v1.invoice_items.list({"customer": customer}).data
    assert len(prorations) == 2 and sum(i.amount for i in prorations) == 200000  # the whole period is left
    assert gw.set_cancel_at_period_end(sub_id, True, "tm-cancel-1")["cancel_at_period_end"] is True
    item = gw.create_invoice_item(
        customer_id=customer,
        amount_minor=4200,
        currency="INR",
        description="profit share",
        metadata={"period": "2026-01"},
        idempotency_key="tm-ps-t1-2026-01",
    )
    assert item.startswith("ii_")
    listed = gw.invoice_items(customer, created_gte_s=0)
    assert [(i.item_id, i.metadata) for i in listed if i.item_id == item] == [(item, {"period": "2026-01"})]
    assert len(listed) == 3  # the two prorations too
    standing = gw.subscription_standing(sub_id)
    assert (standing.status, standing.latest_invoice_status, standing.paid) == ("active", "paid", True)
    canceled = gw.cancel_now(sub_id, "tm-cancel-now-1")
    assert canceled["status"] == "canceled" and canceled["ended_at"] is not None
    with pytest.raises(Exception, match="lookup key"):
        gw.price_id("nope_monthly")
    assert standin.deliverer.wait_idle()
    assert [e["type"] for e in received] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]


def test_sdk_sees_stripe_errors_as_invalid_request_errors(
    served: tuple[str, list[dict[str, Any]], StripeStandin],
) -> None:
    base, _, _ = served
    sdk = stripe.StripeClient("sk_test_local", base_addresses={"api": base})
    with pytest.raises(stripe.InvalidRequestError, match="No such subscription"):
        sdk.v1.subscriptions.retrieve("sub_missing")
    assert se.API_VERSION  # the module stays importable alongside the SDK
