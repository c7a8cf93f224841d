"""A customer's billing story on the running platform: every hop is real (API, the Stripe stand-in's signed
webhooks, stripe_webhook, the outbox -> bus -> queue -> billing_notices -> SMTP sink, the dunning sweep)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
from conftest import REPO, Platform, wait_for
from mantra.devtools.smtp_sink import read_messages

STARTER = "starter@demo.trademantra.in"


def _subscription(api: httpx.Client) -> dict[str, Any]:
    r = api.get("/api/billing/subscription")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _mail(platform: Platform, subject_part: str) -> list[Any]:
    return [m for m in read_messages(platform.data_dir / "mail") if subject_part in str(m["Subject"])]


def test_trial_paid_upgrade_payment_failed_dunning_downgrade(platform: Platform) -> None:
    api = platform.client(platform.token(STARTER))
    stripe = httpx.Client(base_url=f"http://127.0.0.1:{platform.port('STRIPE')}", timeout=10)
    assert _subscription(api)["plan"]["plan_id"] == "starter"
    locked = api.get("/api/option-chain/NIFTY")
    assert locked.status_code == 403 and "Trader plan" in locked.json()["detail"]

    # Checkout: a Stripe-hosted page (the stand-in's) with a 14-day trial; paying sends signed webhooks
    session = api.post("/api/billing/checkout", json={"plan_id": "pro"})
    assert session.status_code == 201, session.text
    page = httpx.get(session.json()["url"])
    assert page.status_code == 200 and "Pro" in page.text
    stripe.post(f"/_test/checkout/{session.json()['session_id']}/complete").raise_for_status()
    trial = wait_for(lambda: (s := _subscription(api))["status"] == "trialing" and s)
    assert trial["plan"]["plan_id"] == "pro" and trial["trial_end_s"] > time.time() + 13 * 86_400
    assert api.get("/api/option-chain/NIFTY").status_code in (200, 404)  # unlocked (404: no chain yet)

    # The trial ends and is paid; then an upgrade with proration
    subscription_id = trial["subscription_id"]
    stripe.post(f"/_test/subscriptions/{subscription_id}/advance").raise_for_status()
    wait_for(lambda: _subscription(api)["status"] == "active")
    change = api.post("/api/billing/change-plan", json={"plan_id": "elite"})
    assert change.status_code == 202, change.text
    wait_for(lambda: _subscription(api)["plan"]["plan_id"] == "elite")

    # The renewal payment fails: dunning starts, an e-mail arrives, the plan holds until the grace ends
    stripe.post(f"/_test/subscriptions/{subscription_id}/fail_payment").raise_for_status()
    wait_for(lambda: _subscription(api)["in_dunning"])
    assert _subscription(api)["plan"]["plan_id"] == "elite"
    [failed_mail] = wait_for(lambda: _mail(platform, "Payment failed"))
    assert failed_mail["To"] == STARTER
    inbox = api.get("/api/notifications").json()
    assert any("Payment failed" in str(n) for n in inbox)

    # The daily sweep (run now) downgrades to Starter, cancels at Stripe, e-mails; nothing is deleted
    swept = subprocess.run(
        [
            sys.executable,
            "-m",
            "mantra.cli.main",
            "invoke",
            "dunning_sweep",
            "events/samples/dunning_sweep.json",
        ],
        cwd=REPO,
        env=platform.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert swept.returncode == 0 and "tnt_starter" in swept.stdout, swept.stdout + swept.stderr
    final = wait_for(lambda: (s := _subscription(api))["status"] == "canceled" and s)
    assert final["plan"]["plan_id"] == "starter" and final["downgraded"] is True
    wait_for(lambda: _mail(platform, "moved to the free plan"))
    assert api.get("/api/option-chain/NIFTY").status_code == 403

    # The invoices the story produced: the trial's, the paid period, the failed renewal
    invoices = api.get("/api/billing/invoices").json()
    assert {i["status"] for i in invoices} == {"paid", "payment_failed"}
    assert any(i["amount_paid_minor"] == 299_900 for i in invoices)


def test_finance_sees_the_metrics_and_others_do_not(platform: Platform) -> None:
    month = time.strftime("%Y-%m", time.gmtime(time.time() + 19_800))
    finance = platform.client(platform.token("finance@demo.trademantra.in"))
    r = finance.get("/api/finance/metrics", params={"start": month, "end": month, "currency": "INR"})
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert row["month"] == month and row["currency"] == "INR"
    csv = finance.get("/api/finance/metrics", params={"start": month, "end": month, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith(
        "month,currency,mrr_minor"
    )
    trader = platform.client(platform.token("pro@demo.trademantra.in"))
    denied = trader.get("/api/finance/metrics", params={"start": month, "end": month})
    assert denied.status_code == 403 and "finance" in denied.json()["detail"]
