"""Metered revenue: exact paise, high-water mark, once per tenant/month/stream, retries repeat nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from billing_fakes import FakeGateway, MemoryBillingStore, MemoryPlans
from mantra.billing.account import BillingAccount
from mantra.billing.metering import UsageMetering, compute_charges, period_bounds, previous_period
from mantra.billing.records import StrategyDeployment, Trade
from mantra.clock import IST, ManualClock
from mantra.errors import Invalid


def ms(y: int, m: int, d: int, h: int = 10) -> int:
    return int(datetime(y, m, d, h, tzinfo=IST).timestamp() * 1000)


def trade(n: int, pnl: int | None, when: int, mode: str = "live") -> Trade:
    return Trade(
        tenant_id="tnt_a",
        trade_id=f"t{n}",
        user_id="usr_a",
        symbol="RELIANCE",
        side="SELL",
        quantity=1,
        price_paise=250_000,
        pnl_paise=pnl,
        mode=mode,
        executed_ms=when,
    )


def account(**kw: object) -> BillingAccount:
    return BillingAccount(
        tenant_id="tnt_a", customer_id="cus_a", catalog="INR", plan_id="pro", status="active", **kw
    )


def test_period_bounds_are_ist_calendar_months() -> None:
    start, end = period_bounds("2026-10")
    assert start == ms(2026, 10, 1, 0) and end == ms(2026, 11, 1, 0)
    assert period_bounds("2026-12")[1] == ms(2027, 1, 1, 0)
    assert previous_period(ms(2026, 1, 1, 0) + 1) == "2025-12"
    with pytest.raises(Invalid, match="period"):
        period_bounds("October")


def test_the_four_streams_in_exact_paise() -> None:
    trades = [
        trade(1, 150_000, ms(2026, 10, 5)),  # Rs 1,500 profit: success fee
        trade(2, 100_000, ms(2026, 10, 6)),  # exactly Rs 1,000: no success fee (over, not at)
        trade(3, -30_001, ms(2026, 10, 7)),
        trade(4, None, ms(2026, 10, 8)),  # an opening trade: still an executed trade
        trade(5, 999_999, ms(2026, 10, 9), mode="paper"),  # paper: never metered
        trade(6, 50_000, ms(2026, 11, 1, 0)),  # next month (IST midnight): not this one
    ]
    deployments = [
        StrategyDeployment(tenant_id="tnt_a", strategy_id="s1", name="a", active_from_ms=ms(2026, 9, 1)),
        StrategyDeployment(
            tenant_id="tnt_a",
            strategy_id="s2",
            name="b",
            active_from_ms=ms(2026, 9, 1),
            active_to_ms=ms(2026, 9, 30),
        ),
        StrategyDeployment(
            tenant_id="tnt_a", strategy_id="s3", name="c", active_from_ms=ms(2026, 10, 31, 23)
        ),
        StrategyDeployment(tenant_id="tnt_a", strategy_id="s4", name="d", mode="paper", active_from_ms=0),
    ]
    charges, updated = compute_charges(account(), 1500, "2026-10", trades, deployments, now_ms=1)
    amounts = {c.stream: c.amount_minor for c in charges}
    assert amounts == {
        "trade_fee": 4 * 1_000,
        "success_fee": 50_000,
        "profit_share": (150_000 + 100_000 - 30_001) * 1500 // 10_000,  # 32,999.85 -> floor
        "strategy_fee": 2 * 10_000,
    }
    assert all(isinstance(c.amount_minor, int) for c in charges)
    assert (updated.cum_pnl_paise, updated.hwm_paise) == (219_999, 219_999)


def test_profit_share_only_above_the_high_water_mark() -> None:
    # a loss month: no share, the mark stays
    acc = account(cum_pnl_paise=500_000, hwm_paise=500_000)
    charges, after_loss = compute_charges(acc, 1000, "2026-10", [trade(1, -200_000, ms(2026, 10, 2))], [], 1)
    assert {c.stream: c.amount_minor for c in charges}["profit_share"] == 0
    assert (after_loss.cum_pnl_paise, after_loss.hwm_paise) == (300_000, 500_000)
    # recovering the loss earns nothing; only the part above the old mark is shared
    charges, after = compute_charges(after_loss, 1000, "2026-11", [trade(2, 250_000, ms(2026, 11, 2))], [], 1)
    assert {c.stream: c.amount_minor for c in charges}["profit_share"] == 50_000 * 1000 // 10_000
    assert after.hwm_paise == 550_000


@pytest.fixture
def metering() -> tuple[UsageMetering, MemoryBillingStore, FakeGateway]:
    store = MemoryBillingStore()
    store.accounts_["tnt_a"] = account()
    store.accounts_["tnt_free"] = BillingAccount(tenant_id="tnt_free")  # no Stripe customer: not metered
    store.trades_ = [trade(1, 150_000, ms(2026, 10, 5)), trade(2, None, ms(2026, 10, 6))]
    gateway = FakeGateway()
    return (
        UsageMetering(store, MemoryPlans(), gateway, ManualClock(ms(2026, 11, 1, 1)), "starter"),
        store,
        gateway,
    )


def test_a_run_posts_each_nonzero_charge_once_and_a_rerun_posts_nothing(metering) -> None:
    svc, store, gateway = metering
    first = svc.run("2026-10")
    again = svc.run("2026-10")
    posted = gateway.named("invoice_item")
    assert {p["metadata"]["stream"]: p["amount_minor"] for p in posted} == {
        "trade_fee": 2_000,
        "success_fee": 50_000,
        "profit_share": 150_000 * 1500 // 10_000,
    }
    assert {p["idempotency_key"] for p in posted} == {
        "tm-usage-tnt_a-2026-10-trade_fee",
        "tm-usage-tnt_a-2026-10-success_fee",
        "tm-usage-tnt_a-2026-10-profit_share",
    }
    assert (first.tenants, first.invoice_items_posted, again.invoice_items_posted) == (1, 3, 0)
    assert all(c.state == "posted" for c in store.charges("tnt_a", "2026-10"))
    assert store.accounts_["tnt_a"].hwm_paise == 150_000  # moved once, not twice


def test_a_run_that_died_after_writing_charges_resumes_with_the_same_keys(metering) -> None:
    svc, store, gateway = metering
    gateway.fail_next = True  # Stripe unreachable on the first post
    report = svc.run("2026-10")
    assert report.failed == ["tnt_a"] and gateway.named("invoice_item") == []
    svc.run("2026-10")
    assert len(gateway.named("invoice_item")) == 3
    assert store.accounts_["tnt_a"].hwm_paise == 150_000


def test_an_open_month_cannot_be_metered(metering) -> None:
    svc, _, _ = metering
    with pytest.raises(Invalid, match="has not ended"):
        svc.run("2026-11")
