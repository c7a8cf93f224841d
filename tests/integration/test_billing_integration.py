"""Billing over the real parts: DynamoDB Local, moto (secrets), the Stripe stand-in sending signed webhooks, and
the local gateway serving the API and stripe_webhook over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from helpers import until
from mantra.auth.passwords import hash_password
from mantra.billing import stripe_events as se
from mantra.billing.dunning import DunningService
from mantra.billing.metering import UsageMetering
from mantra.billing.records import Notice, Trade
from mantra.clock import OffsetClock
from mantra.container import Container
from mantra.domain import Role, User
from mantra.settings import Settings
from mantra.store.aws import read_secret

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def gateway(platform: Settings) -> Iterator[str]:
    """The local API Gateway (API + stripe_webhook) on the platform's API port, where the stand-in posts."""
    from mantra.cli.stripe import sync_from_settings
    from mantra.runtime.gateway import create_gateway

    sync_from_settings(platform)
    server = uvicorn.Server(
        uvicorn.Config(create_gateway(), host="127.0.0.1", port=platform.api_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{platform.api_port}"
    until(lambda: _up(base), timeout_s=20)
    yield base
    server.should_exit = True
    thread.join(10)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/health", timeout=1).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _user(container: Container, tenant: str) -> User:
    user = User(
        user_id=f"usr_{tenant}",
        email=f"{tenant}@it.trademantra.in",
        name=tenant,
        tenant_id=tenant,
        roles=frozenset({Role.TRADER}),
        plan_id="starter",
    )
    container.users.put(user, hash_password("it-password"), int(time.time() * 1000))
    return user


def _put_live_trades(
    container: Container, user: User, symbol: str, price_paise: int, pnls: list[int | None]
) -> int:
    """One closed live trade per P&L (None: not closed yet), a second apart up to now; returns now (epoch ms)."""
    now_ms = int(time.time() * 1000)
    for n, pnl in enumerate(pnls):
        container.billing_store.put_trade(
            Trade(
                tenant_id=user.tenant_id,
                trade_id=f"{symbol.lower()}-{n}",
                user_id=user.user_id,
                symbol=symbol,
                side="SELL",
                quantity=1,
                price_paise=price_paise,
                pnl_paise=pnl,
                executed_ms=now_ms - n * 1000,
            )
        )
    return now_ms


def _token(base: str, user: User) -> dict[str, str]:
    r = httpx.post(f"{base}/auth/token", data={"username": user.email, "password": "it-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _post_event(base: str, secret: str, event: dict[str, Any], ts: int | None = None) -> httpx.Response:
    payload = json.dumps(event).encode()
    sig = se.sign(payload, secret, ts if ts is not None else int(time.time()))
    return httpx.post(f"{base}/webhooks/stripe", content=payload, headers={"Stripe-Signature": sig})


@pytest.fixture(scope="module")
def container(platform: Settings) -> Container:
    from mantra.container import get_container

    return get_container(platform)


@pytest.fixture(scope="module")
def secret(platform: Settings) -> str:
    return str(read_secret(platform, "stripe")["webhook_secret"])


def _sub_event(kind: str, status: str, created: int, tenant: str, plan: str = "pro") -> dict[str, Any]:
    price = se.price(
        price_id=f"price_it_{plan}", lookup_key=f"{plan}_monthly", unit_amount=299_900, currency="inr"
    )
    obj = se.subscription(
        customer=f"cus_it_{tenant}",
        price=price,
        created=created,
        period_start=created,
        period_end=created + 30 * 86_400,
        status=status,
        sub_id=f"sub_it_{tenant}",
        metadata={"tenant_id": tenant, "plan_id": plan},
        ended_at=created if status == "canceled" else None,
    )
    return se.build_event(f"customer.subscription.{kind}", obj, created=created)


def test_forged_tampered_stale_and_future_webhooks_are_refused_and_nothing_is_stored(
    gateway: str, secret: str, container: Container
) -> None:
    user = _user(container, "tnt_it_forged")
    event = _sub_event("created", "active", int(time.time()), user.tenant_id)
    payload = json.dumps(event).encode()
    now = int(time.time())
    cases = {
        "forged": se.sign(payload, "whsec_attacker", now),
        "stale": se.sign(payload, secret, now - 301),
        "future": se.sign(payload, secret, now + 600),  # well past the tolerance, whatever the request takes
    }
    for name, sig in cases.items():
        r = httpx.post(f"{gateway}/webhooks/stripe", content=payload, headers={"Stripe-Signature": sig})
        assert r.status_code == 400, name
        assert "detail" in r.json(), name
    tampered = payload.replace(b'"active"', b'"canceled"')
    r = httpx.post(
        f"{gateway}/webhooks/stripe",
        content=tampered,
        headers={"Stripe-Signature": se.sign(payload, secret, now)},
    )
    assert r.status_code == 400 and "signature" in r.json()["detail"]
    assert container.billing_store.event_seen(event["id"]) is False
    assert container.billing_store.account(user.tenant_id) is None


def test_duplicates_change_nothing_and_deleted_before_created_ends_canceled(
    gateway: str, secret: str, container: Container
) -> None:
    user = _user(container, "tnt_it_order")
    t = int(time.time()) - 60
    created = _sub_event("created", "active", t, user.tenant_id)
    deleted = _sub_event("deleted", "canceled", t + 30, user.tenant_id)
    assert _post_event(gateway, secret, deleted).json()["applied"] is True
    late = _post_event(gateway, secret, created).json()
    again = _post_event(gateway, secret, created).json()
    assert (late["applied"], late["duplicate"], again["duplicate"]) == (False, False, True)
    account = container.billing_store.account(user.tenant_id)
    assert account is not None and account.status == "canceled"
    assert container.users.get(user.user_id).plan_id == "starter"  # type: ignore[union-attr]
    unknown = se.build_event("radar.early_fraud_warning.created", {"id": "issfr_1"}, created=t)
    r = _post_event(gateway, secret, unknown)
    assert r.status_code == 200 and r.json()["handled"] is False


def _wait_plan(container: Container, user: User, plan: str, status: str | None = None) -> None:
    def ok() -> bool:
        account = container.billing_store.account(user.tenant_id)
        current = container.users.get(user.user_id)
        return bool(
            current and current.plan_id == plan and (status is None or (account and account.status == status))
        )

    until(ok, timeout_s=20)


def test_trial_paid_upgrade_payment_failed_dunning_downgrade_and_metering(
    gateway: str, platform: Settings, container: Container
) -> None:
    user = _user(container, "tnt_it_story")
    auth = _token(gateway, user)
    stripe = f"http://127.0.0.1:{platform.stripe_port}"
    # a free user on a paid feature: 403 naming the plan that unlocks it
    r = httpx.get(f"{gateway}/api/option-chain/NIFTY", headers=auth)
    assert r.status_code == 403 and "Trader" in r.json()["detail"]

    # checkout (a 14-day trial) -> the stand-in completes it -> signed webhooks -> the plan follows
    r = httpx.post(f"{gateway}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth)
    assert r.status_code == 201, r.text
    session = r.json()
    again = httpx.post(f"{gateway}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth).json()
    assert again["session_id"] == session["session_id"]  # the same intent reuses the session
    httpx.post(f"{stripe}/_test/checkout/{session['session_id']}/complete").raise_for_status()
    _wait_plan(container, user, "pro", "trialing")
    view = httpx.get(f"{gateway}/api/billing/subscription", headers=auth).json()
    assert view["plan"]["plan_id"] == "pro" and view["trial_available"] is False
    account = container.billing_store.account(user.tenant_id)
    assert account is not None and account.subscription_id
    sub_id = account.subscription_id

    # trial ends and is paid; upgrade to Elite with proration
    httpx.post(f"{stripe}/_test/subscriptions/{sub_id}/advance").raise_for_status()
    _wait_plan(container, user, "pro", "active")
    r = httpx.post(f"{gateway}/api/billing/change-plan", json={"plan_id": "elite"}, headers=auth)
    assert r.status_code == 202, r.text
    _wait_plan(container, user, "elite", "active")
    items = httpx.get(
        f"{stripe}/v1/invoiceitems",
        params={"customer": account.customer_id},
        headers={"Authorization": "Bearer sk_test_local"},
    ).json()["data"]
    prorations = sorted(i["amount"] for i in items)
    assert len(prorations) == 2 and prorations[0] < 0 < prorations[1]

    # payment fails -> dunning with an e-mail; the plan stays through the grace period
    httpx.post(f"{stripe}/_test/subscriptions/{sub_id}/fail_payment").raise_for_status()
    until(lambda: (a := container.billing_store.account(user.tenant_id)) is not None and a.in_dunning, 20)
    assert container.users.get(user.user_id).plan_id == "elite"  # type: ignore[union-attr]
    failed_notice = Notice(
        notice_id=f"it-{sub_id}:payment_failed",
        tenant_id=user.tenant_id,
        kind="payment_failed",
        subject="Payment failed: please update your card",
        body="We could not collect your payment.",
        created_ms=int(time.time() * 1000),
    )
    first = container.billing_notices.deliver(failed_notice)
    second = container.billing_notices.deliver(failed_notice)
    assert (first.emailed, second.already_sent) == ([user.user_id], [user.user_id])
    mail = list(Path(platform.data_dir, "mail", "new").glob("*"))
    assert sum("Payment failed" in p.read_text(errors="replace") for p in mail) == 1

    # the grace period runs out: the sweep cancels Stripe once and moves the tenant to Starter, keeping data
    later = OffsetClock(platform.billing_grace_days * DAY_MS + 60_000)
    sweep = DunningService(container.billing_store, container.plans, container.stripe, platform, later)
    assert user.tenant_id in sweep.run().downgraded
    assert sweep.run().downgraded == []
    _wait_plan(container, user, "starter", "canceled")
    downgraded = container.billing_store.account(user.tenant_id)
    assert (
        downgraded is not None
        and downgraded.downgraded_ms is not None
        and downgraded.subscription_id == sub_id
    )

    # metering a closed month posts each revenue stream once, in paise, to Stripe
    now_ms = _put_live_trades(container, user, "RELIANCE", 250_000, [250_000, -50_000, None])
    period = time.strftime(
        "%Y-%m", time.gmtime(now_ms / 1000 + 19_800)
    )  # this IST month, metered "next month"
    metering = UsageMetering(
        container.billing_store,
        container.plans,
        container.stripe,
        OffsetClock(40 * DAY_MS),
        platform.billing_free_plan,
    )
    report = metering.run(period)
    rerun = metering.run(period)
    assert (report.invoice_items_posted, rerun.invoice_items_posted) == (2, 0)  # trade fee + success fee
    items = httpx.get(
        f"{stripe}/v1/invoiceitems",
        params={"customer": account.customer_id},
        headers={"Authorization": "Bearer sk_test_local"},
    ).json()["data"]
    metered = {i["metadata"].get("stream"): i["amount"] for i in items if i.get("metadata", {}).get("stream")}
    assert metered == {
        "trade_fee": 3 * 1_000,
        "success_fee": 50_000,
    }  # downgraded to Starter: no profit share
    usage = httpx.get(f"{gateway}/api/billing/usage", params={"period": period}, headers=auth).json()
    assert {c["stream"]: c["state"] for c in usage}["trade_fee"] == "posted"


def test_a_cancelled_subscription_pauses_the_alerts_over_the_free_limit(
    gateway: str, secret: str, container: Container, platform: Settings, tmp_path: Path
) -> None:
    from mantra.catalog import DynamoStreamTrigger, EventTrigger, function
    from mantra.domain import AlertCondition, AlertStatus, Channel
    from mantra.runtime.pollers import DynamoStreamPoller, SqsPoller

    # Given a Pro tenant with seven active alerts (Starter allows five)
    user = _user(container, "tnt_it_limits")
    t = int(time.time()) - 60
    assert _post_event(gateway, secret, _sub_event("created", "active", t, user.tenant_id)).json()["applied"]
    _wait_plan(container, user, "pro")
    pro_user = container.users.get(user.user_id)
    assert pro_user is not None
    made = [
        container.alert_service.create(
            pro_user, "INFY", AlertCondition.ABOVE, 200_000 + i, (Channel.IN_APP,), f"level {i}"
        )
        for i in range(7)
    ]
    # When the subscription is cancelled (the tenant moves to Starter) and the events flow
    assert _post_event(gateway, secret, _sub_event("deleted", "canceled", t + 30, user.tenant_id)).json()[
        "applied"
    ]
    _wait_plan(container, user, "starter")
    relay_spec, limits_spec = function("outbox_relay"), function("plan_limits")
    relay = DynamoStreamPoller(
        platform,
        relay_spec,
        next(t for t in relay_spec.triggers if isinstance(t, DynamoStreamTrigger)),
        tmp_path,
    )
    limits = SqsPoller(
        platform,
        limits_spec,
        next(t for t in limits_spec.triggers if isinstance(t, EventTrigger)),
    )

    def newest_paused() -> bool:
        relay.poll_once()
        limits.poll_once()
        status = {a.alert_id: a.status for a in container.alerts.list(user.tenant_id)}
        return [status[a.alert_id] for a in made[5:]] == [AlertStatus.PAUSED] * 2

    until(newest_paused, timeout_s=30)
    # Then the five oldest are still active, and the user has one note about the two paused ones
    assert [container.alerts.get(user.tenant_id, a.alert_id).status for a in made[:5]] == [  # type: ignore[union-attr]
        AlertStatus.ACTIVE
    ] * 5
    notes = [n for n in container.inbox.list(pro_user) if n.kind == "alerts.paused"]
    assert len(notes) == 1 and notes[0].title == "2 alerts paused"
    assert sorted(notes[0].data["alert_ids"]) == sorted(a.alert_id for a in made[5:])  # type: ignore[arg-type]
    assert all(container.alerts.get(user.tenant_id, a.alert_id).paused_by_plan for a in made[5:])  # type: ignore[union-attr]

    # And when the tenant subscribes again, the two come back (the plan paused them, so the plan resumes them)
    again = _sub_event("created", "active", t + 60, user.tenant_id) | {"id": "evt_it_limits_again"}
    again["data"]["object"]["id"] = f"sub_it_{user.tenant_id}_2"
    assert _post_event(gateway, secret, again).json()["applied"]
    _wait_plan(container, user, "pro")

    def all_active() -> bool:
        relay.poll_once()
        limits.poll_once()
        return all(a.status is AlertStatus.ACTIVE for a in container.alerts.list(user.tenant_id))

    until(all_active, timeout_s=30)
    assert [n.title for n in container.inbox.list(pro_user) if n.kind == "alerts.resumed"] == [
        "2 alerts active again"
    ]


# events in any order over the real stand-in: late deliveries are the stand-in holding webhooks back
STRIPE_AUTH = {"Authorization": "Bearer sk_test_local"}


def _paying_customer(gateway: str, platform: Settings, container: Container, tenant: str) -> tuple[User, str]:
    """A tenant on Pro, past its trial, with its first period paid: (user, subscription id)."""
    user = _user(container, tenant)
    auth = _token(gateway, user)
    stripe = f"http://127.0.0.1:{platform.stripe_port}"
    session = httpx.post(f"{gateway}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth).json()
    httpx.post(f"{stripe}/_test/checkout/{session['session_id']}/complete").raise_for_status()
    _wait_plan(container, user, "pro", "trialing")
    account = container.billing_store.account(user.tenant_id)
    assert account is not None and account.subscription_id
    httpx.post(f"{stripe}/_test/subscriptions/{account.subscription_id}/advance").raise_for_status()
    _wait_plan(container, user, "pro", "active")
    return user, account.subscription_id


def _sweep_after_grace(platform: Settings, container: Container) -> Any:
    later = OffsetClock((platform.billing_grace_days + 1) * DAY_MS)
    return DunningService(container.billing_store, container.plans, container.stripe, platform, later).run()


def test_a_late_payment_failed_after_invoice_paid_leaves_the_customer_paid_and_the_sweep_cancels_nothing(
    gateway: str, platform: Settings, container: Container
) -> None:
    stripe = f"http://127.0.0.1:{platform.stripe_port}"
    # Given a paying Pro customer, and the network delaying invoice.payment_failed deliveries
    user, sub_id = _paying_customer(gateway, platform, container, "tnt_it_late_failure")
    httpx.post(f"{stripe}/_test/webhooks/hold", params={"type": "invoice.payment_failed"}).raise_for_status()
    try:
        # When the renewal fails at Stripe, and an hour later the customer pays that invoice
        invoice = httpx.post(f"{stripe}/_test/subscriptions/{sub_id}/fail_payment").json()["invoice"]
        httpx.post(f"{stripe}/_test/clock/advance", params={"seconds": "3600"}).raise_for_status()
        httpx.post(f"{stripe}/v1/invoices/{invoice['id']}/pay", headers=STRIPE_AUTH).raise_for_status()

        def paid_applied() -> bool:
            a = container.billing_store.account(user.tenant_id)
            inv = a.latest_invoice if a else None
            return bool(a and a.status == "active" and inv and inv.invoice_id == invoice["id"] and inv.paid)

        until(paid_applied, timeout_s=20)
    finally:
        # And only then does the (older) invoice.payment_failed arrive
        [late] = httpx.post(f"{stripe}/_test/webhooks/release").json()["released"]
    until(lambda: container.billing_store.event_seen(late), timeout_s=20)
    events = httpx.get(f"{stripe}/_test/events", params={"type": "invoice.payment_failed"}).json()["data"]
    assert next(e for e in events if e["id"] == late)["delivery"]["status"] == "delivered"  # answered 2xx

    # Then the customer stays paid: no dunning, the invoice recorded as paid, every user still on Pro
    account = container.billing_store.account(user.tenant_id)
    assert account is not None and not account.in_dunning and account.downgraded_ms is None
    record = container.billing_store.invoice(user.tenant_id, invoice["id"])
    assert record is not None and record.status == "paid"
    assert container.users.get(user.user_id).plan_id == "pro"  # type: ignore[union-attr]
    # And the dunning sweep, past any grace period, cancels nothing: the subscription is active at Stripe
    report = _sweep_after_grace(platform, container)
    assert user.tenant_id not in report.downgraded
    assert container.stripe.subscription_standing(sub_id).status == "active"


def test_the_sweep_rereads_stripe_and_spares_a_customer_whose_payment_webhook_is_late(
    gateway: str, platform: Settings, container: Container
) -> None:
    stripe = f"http://127.0.0.1:{platform.stripe_port}"
    # Given a paying customer whose renewal failed (heard: the account is in dunning)
    user, sub_id = _paying_customer(gateway, platform, container, "tnt_it_late_paid")
    invoice = httpx.post(f"{stripe}/_test/subscriptions/{sub_id}/fail_payment").json()["invoice"]
    until(lambda: (a := container.billing_store.account(user.tenant_id)) is not None and a.in_dunning, 20)
    # When they pay an hour later, but every webhook saying so is delayed, and the sweep runs after the grace
    httpx.post(f"{stripe}/_test/webhooks/hold").raise_for_status()
    try:
        httpx.post(f"{stripe}/_test/clock/advance", params={"seconds": "3600"}).raise_for_status()
        httpx.post(f"{stripe}/v1/invoices/{invoice['id']}/pay", headers=STRIPE_AUTH).raise_for_status()
        report = _sweep_after_grace(platform, container)
    finally:
        httpx.post(f"{stripe}/_test/webhooks/release").raise_for_status()
    # Then the sweep read Stripe first and cancelled nothing
    assert user.tenant_id in report.paid_at_stripe and user.tenant_id not in report.downgraded
    assert container.stripe.subscription_standing(sub_id).status == "active"
    # And the late webhooks end the dunning; the plan never left Pro
    until(lambda: (a := container.billing_store.account(user.tenant_id)) is not None and not a.in_dunning, 20)
    _wait_plan(container, user, "pro", "active")


def test_an_invoice_record_is_never_put_back_to_an_earlier_state_by_a_concurrent_writer(
    container: Container,
) -> None:
    from mantra.billing.records import BillingChange, InvoiceRecord

    def record(status: str, as_of_s: int) -> BillingChange:
        inv = InvoiceRecord(
            tenant_id="tnt_it_invoice_race",
            invoice_id="in_it_race",
            status=status,
            currency="INR",
            amount_due_minor=299_900,
            amount_paid_minor=299_900 if status == "paid" else 0,
            created_s=1_790_000_000,
            as_of_s=as_of_s,
        )
        return BillingChange(received_ms=1, invoice=inv)

    store = container.billing_store
    # Given the invoice's second failure, then its payment, are stored
    assert store.commit(record("payment_failed", 1_790_000_100))
    assert store.commit(record("paid", 1_790_000_200))
    # When a writer that read before them stores the first failure, or the same paid state again
    # Then DynamoDB refuses both (the webhook then re-reads and finds them stale), and the record stays paid
    assert store.commit(record("payment_failed", 1_790_000_050)) is False
    assert store.commit(record("paid", 1_790_000_200)) is False
    stored = store.invoice("tnt_it_invoice_race", "in_it_race")
    assert stored is not None and (stored.status, stored.as_of_s) == ("paid", 1_790_000_200)


class _DiesAfterPosting:
    """The real billing store, except that the first ``mark_posted`` dies (the Lambda timed out there)."""

    def __init__(self, store: Any) -> None:
        self._store, self.died = store, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def mark_posted(self, *args: Any) -> None:
        if not self.died:
            self.died = True
            raise TimeoutError("the run died after Stripe created the invoice item")
        self._store.mark_posted(*args)


def test_metering_resumed_after_more_than_a_day_posts_no_duplicate_invoice_item(
    platform: Settings, container: Container
) -> None:
    # (last in this module: it moves the shared stand-in's clock a day on; the tests above move it an hour)
    stripe = f"http://127.0.0.1:{platform.stripe_port}"
    # Given a metered tenant with live trades this month, and a Stripe customer
    user = _user(container, "tnt_it_meter_resume")
    customer = container.stripe.ensure_customer(user.tenant_id, user.email, user.name)
    container.billing_store.save_customer(user.tenant_id, customer, "INR")
    now_ms = _put_live_trades(container, user, "SBIN", 80_000, [250_000, 10_000])
    period = time.strftime("%Y-%m", time.gmtime(now_ms / 1000 + 19_800))  # this IST month
    later = OffsetClock(40 * DAY_MS)
    dying = _DiesAfterPosting(container.billing_store)
    # When the run dies right after Stripe created the first invoice item
    first = UsageMetering(dying, container.plans, container.stripe, later, platform.billing_free_plan).run(
        period
    )  # type: ignore[arg-type]
    assert first.failed == [user.tenant_id] and dying.died
    # And it resumes more than a day later, when Stripe no longer knows the idempotency key
    httpx.post(f"{stripe}/_test/clock/advance", params={"seconds": str(25 * 3_600)}).raise_for_status()
    metering = UsageMetering(
        container.billing_store, container.plans, container.stripe, later, platform.billing_free_plan
    )
    resumed = metering.run(period)
    # Then each stream is at Stripe exactly once, and the item posted before the crash is the one recorded
    items = httpx.get(
        f"{stripe}/v1/invoiceitems", params={"customer": customer, "limit": "100"}, headers=STRIPE_AUTH
    ).json()["data"]
    streams = sorted(i["metadata"]["stream"] for i in items)
    assert streams == ["success_fee", "trade_fee"]
    assert resumed.invoice_items_adopted == 1 and resumed.invoice_items_posted == 1
    charges = {c.stream: c for c in container.billing_store.charges(user.tenant_id, period)}
    assert {charges[s].stripe_invoice_item for s in streams} == {i["id"] for i in items}
    assert all(c.state == "posted" for c in charges.values())
    # And the key had really expired: posting again with it makes a new item (so the lookup is what saved us)
    key = f"tm-usage-{user.tenant_id}-{period}-trade_fee"
    replay = httpx.post(
        f"{stripe}/v1/invoiceitems",
        data={"customer": customer, "amount": "1", "currency": "inr"},
        headers={**STRIPE_AUTH, "Idempotency-Key": key},
    )
    assert replay.json()["id"] not in {i["id"] for i in items}


def test_seeded_customers_get_a_real_subscription_and_the_cli_triggers_act_on_it(
    gateway: str, container: Container
) -> None:
    from mantra.cli.main import app
    from mantra.devtools.billing_seed import seed_billing
    from typer.testing import CliRunner

    # Given a customer on Pro with no billing yet (as the demo users are seeded), and one on the free plan
    pro = _user(container, "t-seed-pro").model_copy(update={"plan_id": "pro"})
    container.users.put(pro, hash_password("it-password"), int(time.time() * 1000))
    free = _user(container, "t-seed-free")
    # When billing is seeded through the stand-in's checkout and webhooks
    outcome = seed_billing(container, [pro])
    # Then the account is an active Pro subscription with a paid invoice, and the API says Pro too
    assert outcome == {"t-seed-pro": "pro active"}, outcome
    account = container.billing_store.account("t-seed-pro")
    assert account is not None and account.customer_id and account.subscription_id
    view = httpx.get(f"{gateway}/api/billing/subscription", headers=_token(gateway, pro)).json()
    assert view["plan"]["plan_id"] == "pro" and view["status"] == "active"
    paid = [i for i in container.billing_store.invoices("t-seed-pro") if i.status == "paid"]
    assert any(i.amount_paid_minor == 299_900 for i in paid)
    # seeding again changes nothing
    assert seed_billing(container, [pro])["t-seed-pro"].startswith("skipped: already pro")

    # And `mantra stripe trigger invoice.payment_failed --email` is about that subscription (its real ids), and
    # the platform takes it (other tests move the stand-in's clock on, so whether it is newer than the account's
    # last event is not this test's to say)
    runner = CliRunner()
    args = ["stripe", "trigger", "invoice.payment_failed", "--email", pro.email]
    shown = runner.invoke(app, [*args, "--dry-run"])
    assert shown.exit_code == 0, shown.output
    body = " ".join(shown.output.split())
    assert account.subscription_id in body and account.customer_id in body
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "HTTP 200" in result.output, result.output
    # while for a user without a subscription it says so, instead of sending an event about nothing
    result = runner.invoke(app, ["stripe", "trigger", "invoice.payment_failed", "--email", free.email])
    assert result.exit_code == 2 and "has no subscription" in " ".join(result.output.split())
