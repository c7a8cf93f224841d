"""The finance view's figures and the user-facing billing service (checkout, change, cancel)."""

from __future__ import annotations

from datetime import datetime

import pytest
from billing_fakes import FakeGateway, MemoryBillingStore, MemoryPlans, user
from mantra.billing.account import BillingAccount
from mantra.billing.finance import FinanceReports, months, to_csv
from mantra.billing.records import HistoryRow, InvoiceLine, InvoiceRecord, UsageCharge
from mantra.billing.service import BillingService
from mantra.clock import IST, ManualClock
from mantra.errors import Conflict, Invalid, NotFound
from mantra.settings import Settings


def s(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, 12, tzinfo=IST).timestamp())


def row(tenant: str, sub: str, status: str, plan: str, at: int) -> HistoryRow:
    return HistoryRow(
        tenant_id=tenant, subscription_id=sub, status=status, plan_id=plan, at_s=at, event_id=f"e{at}{sub}"
    )


@pytest.fixture
def finance() -> FinanceReports:
    store = MemoryBillingStore()
    store.history_ = [
        # A: trial in September, paid Pro from October
        row("A", "sa", "trialing", "pro", s(2026, 9, 20)),
        row("A", "sa", "active", "pro", s(2026, 10, 4)),
        # B: Trader since August, cancelled in October
        row("B", "sb", "active", "trader", s(2026, 8, 2)),
        row("B", "sb", "canceled", "trader", s(2026, 10, 15)),
        # C: trial in October that ended without paying
        row("C", "sc", "trialing", "elite", s(2026, 10, 2)),
        row("C", "sc", "canceled", "elite", s(2026, 10, 16)),
        # D: a USD customer: never mixed with rupees
        row("D", "sd", "active", "usd_pro", s(2026, 9, 1)),
    ]
    store.invoices_[("A", "in1")] = InvoiceRecord(
        tenant_id="A",
        invoice_id="in1",
        subscription_id="sa",
        status="paid",
        currency="INR",
        amount_due_minor=304_900,
        amount_paid_minor=304_900,
        created_s=s(2026, 10, 4),
        as_of_s=s(2026, 10, 4),
        lines=[
            InvoiceLine(stream="subscription", amount_minor=299_900),
            InvoiceLine(stream="trade_fee", amount_minor=5_000),
        ],
    )
    store.charges_[("A", "2026-10#trade_fee")] = UsageCharge(
        tenant_id="A",
        period="2026-10",
        stream="trade_fee",
        currency="INR",
        quantity=3,
        unit_minor=1000,
        amount_minor=3000,
    )
    return FinanceReports(store, MemoryPlans())


def test_monthly_metrics_per_currency(finance: FinanceReports) -> None:
    sep, oct_ = finance.monthly("2026-09", "2026-10", currency="INR")
    assert (sep.mrr_minor, sep.paying_customers) == (99_900, 1)  # B's Trader; A still trialing
    assert (oct_.mrr_minor, oct_.arr_minor, oct_.paying_customers, oct_.arpu_minor) == (
        299_900,
        299_900 * 12,
        1,
        299_900,
    )
    assert (oct_.churned, oct_.churn_rate_bps) == (1, 10_000)  # B was the one paying at the start
    assert (sep.trials_started, oct_.trials_started) == (1, 1)
    assert (oct_.trials_ended, oct_.trials_converted, oct_.trial_conversion_bps) == (2, 1, 5_000)
    assert oct_.revenue_by_stream == {"subscription": 299_900, "trade_fee": 5_000}
    assert oct_.revenue_minor == 304_900 and oct_.metered_by_stream == {"trade_fee": 3000}
    [usd] = finance.monthly("2026-10", "2026-10", currency="USD")
    assert (usd.mrr_minor, usd.paying_customers) == (4_900, 1)


def test_csv_has_one_row_per_month_and_currency_with_stream_columns(finance: FinanceReports) -> None:
    text = to_csv(finance.monthly("2026-10", "2026-10"))
    lines = text.strip().splitlines()
    assert len(lines) == 3  # header + INR + USD
    header = lines[0].split(",")
    inr = dict(zip(header, lines[1].split(","), strict=True))
    assert (
        inr["currency"] == "INR" and inr["mrr_minor"] == "299900" and inr["revenue_trade_fee_minor"] == "5000"
    )


def test_month_ranges_are_checked() -> None:
    assert months("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    with pytest.raises(Invalid, match="after"):
        months("2026-11", "2026-10")


@pytest.fixture
def billing() -> tuple[BillingService, MemoryBillingStore, FakeGateway]:
    store = MemoryBillingStore([user("tnt_a", "usr_a")])
    gateway = FakeGateway()
    svc = BillingService(store, MemoryPlans(), gateway, Settings(), ManualClock(1_790_000_000_000))
    return svc, store, gateway


def test_checkout_creates_the_customer_once_offers_the_trial_and_reuses_the_session(billing) -> None:
    svc, store, gateway = billing
    first = svc.checkout(user("tnt_a", "usr_a"), "pro")
    again = svc.checkout(user("tnt_a", "usr_a"), "pro")
    assert first == again and len(gateway.named("checkout")) == 1
    [call] = gateway.named("checkout")
    assert (call["trial_days"], call["price_id"], call["tenant_id"]) == (14, "price_pro_monthly", "tnt_a")
    assert store.accounts_["tnt_a"].customer_id == "cus_tnt_a"


def test_no_second_trial_and_no_second_subscription(billing) -> None:
    svc, store, gateway = billing
    store.accounts_["tnt_a"] = BillingAccount(
        tenant_id="tnt_a", customer_id="cus_a", catalog="INR", trial_used=True
    )
    svc.checkout(user("tnt_a", "usr_a"), "trader")
    assert gateway.named("checkout")[0]["trial_days"] == 0
    store.accounts_["tnt_a"] = store.accounts_["tnt_a"].model_copy(
        update={"subscription_id": "sub_1", "status": "active", "plan_id": "trader"}
    )
    with pytest.raises(Conflict, match="change-plan"):
        svc.checkout(user("tnt_a", "usr_a"), "pro")


@pytest.mark.parametrize(
    ("plan", "message"), [("starter", "free"), ("nope", "unknown plan"), ("usd_pro", "bills in INR")]
)
def test_checkout_refuses_what_cannot_be_bought(billing, plan: str, message: str) -> None:
    svc, store, _ = billing
    store.accounts_["tnt_a"] = BillingAccount(tenant_id="tnt_a", customer_id="cus_a", catalog="INR")
    with pytest.raises(Invalid, match=message):
        svc.checkout(user("tnt_a", "usr_a"), plan)


def test_change_plan_prorates_with_a_deterministic_key_and_cancel_needs_a_subscription(billing) -> None:
    svc, store, gateway = billing
    with pytest.raises(NotFound):
        svc.change_plan(user("tnt_a", "usr_a"), "elite")
    store.accounts_["tnt_a"] = BillingAccount(
        tenant_id="tnt_a",
        customer_id="cus_a",
        catalog="INR",
        subscription_id="sub_1",
        status="active",
        plan_id="pro",
        as_of_s=5,
    )
    change = svc.change_plan(user("tnt_a", "usr_a"), "elite")
    svc.change_plan(user("tnt_a", "usr_a"), "elite")  # a retried request
    assert change.to_plan_id == "elite" and len(gateway.named("change_price")) == 1
    with pytest.raises(Conflict):
        svc.change_plan(user("tnt_a", "usr_a"), "pro")
    view = svc.set_cancel(user("tnt_a", "usr_a"), True)
    assert view.cancel_at_period_end and gateway.named("cancel_at_period_end") == [
        {"subscription": "sub_1", "cancel": True}
    ]
