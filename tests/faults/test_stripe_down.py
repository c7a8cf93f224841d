"""The Stripe stand-in killed with -9 while checkouts and webhooks arrive, then restarted on its state file: a
checkout during the outage is told Stripe is unreachable (503, Retry-After) and works once it is back; webhooks
that Stripe made but had not delivered arrive after the restart, a replay during the outage changes nothing;
metering during the outage posts nothing and afterwards posts each invoice item once. Billing state, e-mails
and invoice items end exactly right."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from faultkit import FaultPlatform, record
from mantra.auth.passwords import hash_password
from mantra.billing import stripe_events as se
from mantra.billing.metering import UsageMetering
from mantra.billing.records import Trade
from mantra.clock import OffsetClock, SystemClock
from mantra.container import get_container
from mantra.devtools.smtp_sink import read_messages
from mantra.domain import Role, User
from mantra.store.aws import read_secret
from traffic import until

PASSWORD = "faults-password"  # a throw-away local user's
DAY_MS = 86_400_000
STRIPE_AUTH = {"Authorization": "Bearer sk_test_local"}


def _user(faulty: FaultPlatform, name: str) -> User:
    tenant = f"tnt_flt_{name}_{SystemClock().now_ms()}"
    user = User(
        user_id=f"usr_{tenant}",
        email=f"{tenant}@faults.trademantra.in",
        name=name,
        tenant_id=tenant,
        roles=frozenset({Role.TRADER}),
        plan_id="starter",
    )
    get_container(faulty.settings).users.put(user, hash_password(PASSWORD), SystemClock().now_ms())
    return user


def _auth(api: str, user: User) -> dict[str, str]:
    r = httpx.post(f"{api}/auth/token", data={"username": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _stripe(faulty: FaultPlatform) -> str:
    return f"http://127.0.0.1:{faulty.settings.stripe_port}"


def _state(faulty: FaultPlatform, user: User) -> tuple[str, str | None, bool]:
    container = get_container(faulty.settings)
    account = container.billing_store.account(user.tenant_id)
    current = container.users.get(user.user_id)
    return (
        current.plan_id if current else "?",
        account.status if account else None,
        bool(account and account.in_dunning),
    )


def _stripe_list(faulty: FaultPlatform, what: str, customer: str) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{_stripe(faulty)}/v1/{what}", params={"customer": customer, "limit": "100"}, headers=STRIPE_AUTH
    )
    r.raise_for_status()
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def _put_live_trades(faulty: FaultPlatform, user: User, pnls: list[int]) -> str:
    now_ms = SystemClock().now_ms()
    for n, pnl in enumerate(pnls):
        get_container(faulty.settings).billing_store.put_trade(
            Trade(
                tenant_id=user.tenant_id,
                trade_id=f"flt-{n}",
                user_id=user.user_id,
                symbol="SBIN",
                side="SELL",
                quantity=1,
                price_paise=80_000,
                pnl_paise=pnl,
                executed_ms=now_ms - n * 1000,
            )
        )
    return time.strftime("%Y-%m", time.gmtime(now_ms / 1000 + 19_800))  # this IST month


def _mails_to(faulty: FaultPlatform, user: User, subject: str) -> int:
    return sum(
        1
        for m in read_messages(faulty.settings.data_dir / "mail")
        if m["To"] == user.email and subject in str(m["Subject"])
    )


def test_stripe_down_while_checkouts_and_webhooks_arrive_ends_with_billing_exactly_right(
    faulty: FaultPlatform,
):
    settings = faulty.settings
    api, stripe = f"http://127.0.0.1:{settings.api_port}", _stripe(faulty)
    container = get_container(settings)
    # Given A paying for Pro (checkout, trial, first invoice paid) with live trades this month, and B and C new
    a, b, c = (_user(faulty, n) for n in ("a", "b", "c"))
    auth = {u.user_id: _auth(api, u) for u in (a, b, c)}
    session_a = httpx.post(f"{api}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth[a.user_id])
    assert session_a.status_code == 201, session_a.text
    httpx.post(f"{stripe}/_test/checkout/{session_a.json()['session_id']}/complete").raise_for_status()
    assert until(lambda: _state(faulty, a)[:2] == ("pro", "trialing"))
    sub_a = container.billing_store.account(a.tenant_id).subscription_id  # type: ignore[union-attr]
    httpx.post(f"{stripe}/_test/subscriptions/{sub_a}/advance").raise_for_status()
    assert until(lambda: _state(faulty, a)[:2] == ("pro", "active"))
    period = _put_live_trades(faulty, a, [250_000, 10_000])
    # and B's checkout opened
    session_b = httpx.post(f"{api}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth[b.user_id])
    assert session_b.status_code == 201, session_b.text

    # When Stripe makes events it cannot deliver yet (A's payment fails, B's checkout completes) and dies
    httpx.post(f"{stripe}/_test/webhooks/hold").raise_for_status()
    httpx.post(f"{stripe}/_test/subscriptions/{sub_a}/fail_payment").raise_for_status()
    httpx.post(f"{stripe}/_test/checkout/{session_b.json()['session_id']}/complete").raise_for_status()
    made = [
        e
        for e in httpx.get(f"{stripe}/_test/events").json()["data"]
        if e["delivery"]["status"] != "delivered"
    ]
    killed_at = time.monotonic()
    faulty.kill("stripe")
    # And, while it is down, C tries to check out, an old webhook is replayed, and metering runs
    refused = httpx.post(f"{api}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth[c.user_id])
    replayed = _replay_first_event(faulty, a)
    metering = UsageMetering(
        container.billing_store,
        container.plans,
        container.stripe,
        OffsetClock(40 * DAY_MS),
        settings.billing_free_plan,
    )
    during = metering.run(period)
    states_during = {u.user_id: _state(faulty, u) for u in (a, b, c)}
    listening_s = faulty.restart("stripe")
    back_at = time.monotonic()

    # Then C was told, with a 503 naming Stripe and when to retry, and nothing was half-made
    assert refused.status_code == 503, refused.text
    assert "Stripe" in refused.json()["detail"] and int(refused.headers["Retry-After"]) > 0
    assert replayed.status_code == 200, replayed.text
    assert a.tenant_id in during.failed and during.invoice_items_posted == 0
    # (held back by Stripe: A is not in dunning yet, B not on Pro, C has nothing)
    assert states_during[a.user_id] == ("pro", "active", False)
    assert states_during[b.user_id][0] == states_during[c.user_id][0] == "starter"
    # And once Stripe is back its undelivered events arrive: A is past due, in dunning; B is on its trial
    assert until(
        lambda: (
            _state(faulty, a) == ("pro", "past_due", True) and _state(faulty, b)[:2] == ("pro", "trialing")
        ),
        60,
    ), (_state(faulty, a), _state(faulty, b), [(e["type"], e["delivery"]) for e in _events(faulty)][-6:])
    delivered_s = time.monotonic() - back_at
    # And C's checkout works now, once
    retried = httpx.post(f"{api}/api/billing/checkout", json={"plan_id": "pro"}, headers=auth[c.user_id])
    assert retried.status_code == 201, retried.text
    httpx.post(f"{stripe}/_test/checkout/{retried.json()['session_id']}/complete").raise_for_status()
    assert until(lambda: _state(faulty, c)[:2] == ("pro", "trialing"))
    # And metering posts each of A's streams once, and a second run posts nothing
    after, again = metering.run(period), metering.run(period)
    stored = container.billing_store.charges(a.tenant_id, period)
    assert all(ch.state == "posted" for ch in stored)
    charges = {ch.stream: ch for ch in stored if ch.amount_minor > 0}
    assert (after.invoice_items_posted, again.invoice_items_posted) == (len(charges), 0), (after, charges)

    # Then at Stripe: one subscription per customer, A's metered items once each, every event delivered
    for u in (a, b, c):
        account = container.billing_store.account(u.tenant_id)
        assert account is not None and account.customer_id
        assert len(_stripe_list(faulty, "subscriptions", account.customer_id)) == 1
    customer_a = container.billing_store.account(a.tenant_id).customer_id  # type: ignore[union-attr]
    metered = sorted(
        i["metadata"]["stream"]
        for i in _stripe_list(faulty, "invoiceitems", customer_a)
        if i["metadata"].get("stream")
    )
    assert metered == sorted(charges)  # each stream once
    # ₹10 a live trade, ₹500 for the one with profit over ₹1,000, Pro's 15 % of the profit (no high-water mark yet)
    assert {k: ch.amount_minor for k, ch in charges.items()} == {
        "trade_fee": 2 * 1_000,
        "success_fee": 50_000,
        "profit_share": (250_000 + 10_000) * 15 // 100,
    }
    assert {ch.stripe_invoice_item for ch in charges.values()} == {
        i["id"] for i in _stripe_list(faulty, "invoiceitems", customer_a) if i["metadata"].get("stream")
    }
    events = httpx.get(f"{stripe}/_test/events").json()["data"]
    assert {e["id"] for e in made} <= {e["id"] for e in events if e["delivery"]["status"] == "delivered"}
    # And A got exactly one payment-failed e-mail, though its event was made before the crash and sent after
    assert until(lambda: _mails_to(faulty, a, "Payment failed") >= 1)
    time.sleep(2)
    assert _mails_to(faulty, a, "Payment failed") == 1
    record(
        "Stripe stand-in kill -9",
        f"down {back_at - killed_at:.1f} s (listening {listening_s:.1f} s after its restart); checkout during"
        f" it: 503 + Retry-After; {len(made)} undelivered events delivered {delivered_s:.1f} s after the restart;"
        f" billing state, 1 dunning e-mail, {len(charges)} invoice items exact",
    )


def _events(faulty: FaultPlatform) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{_stripe(faulty)}/_test/events").json()["data"]
    return events


def _replay_first_event(faulty: FaultPlatform, user: User) -> httpx.Response:
    """A's first subscription event again, signed as Stripe signs, as a retried delivery would arrive."""
    secret = str(read_secret(faulty.settings, "stripe")["webhook_secret"])
    path = faulty.settings.data_dir / "stripe.json"
    events = json.loads(path.read_text())["events"]
    first = next(
        r["event"]
        for r in events
        if r["event"]["type"].startswith("customer.subscription")
        and r["event"]["data"]["object"].get("metadata", {}).get("tenant_id") == user.tenant_id
    )
    payload = json.dumps(first).encode()
    sig = se.sign(payload, secret, int(time.time()))
    return httpx.post(
        f"http://127.0.0.1:{faulty.settings.api_port}/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": sig},
    )
