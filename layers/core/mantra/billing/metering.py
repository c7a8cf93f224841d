"""Metered revenue streams -> Stripe invoice items, once per tenant, month and stream.

The roadmap's streams (amounts in paise, integers only):
- ``trade_fee``: Rs 10 per executed live trade;
- ``success_fee``: Rs 500 per live trade that realised a profit over Rs 1,000;
- ``profit_share``: the plan's share (Trader 10%, Pro 15%, Elite 20%) of cumulative live P&L above its
  high-water mark: a loss must be earned back before any share is charged again;
- ``strategy_fee``: Rs 100 per live strategy deployed at any time in the month.

A run first writes the month's charges (all four, zero ones too, as the record that the month is metered) and
the new high-water mark in one transaction: a second run finds them and computes nothing. Then it posts each
pending charge to Stripe with the key ``tm-usage-{tenant}-{period}-{stream}``, and marks it posted.

A run that died between the two (or whose answer from Stripe was lost) resumes safely even days later: Stripe
keeps idempotency keys for about 24 hours only, so before posting, the run lists the customer's invoice items
created since the month began and adopts one already posted for that tenant, month and stream (by its
metadata) instead of relying on the key alone.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel

from mantra.billing.account import BillingAccount, entitled_plan_id
from mantra.billing.gateway import StripeGateway
from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.records import StrategyDeployment, Trade, UsageCharge
from mantra.clock import IST, Clock, ist_from_ms
from mantra.errors import Invalid

log = logging.getLogger(__name__)

TRADE_FEE_PAISE = 1_000
SUCCESS_FEE_PAISE = 50_000
SUCCESS_THRESHOLD_PAISE = 100_000  # profit over Rs 1,000
STRATEGY_FEE_PAISE = 10_000
STREAMS = ("trade_fee", "success_fee", "profit_share", "strategy_fee")
DESCRIPTIONS = {
    "trade_fee": "Executed trades, {period}: {quantity} x Rs 10",
    "success_fee": "Success fee, {period}: {quantity} profitable trades over Rs 1,000 x Rs 500",
    "profit_share": "Profit share, {period}: {share}% of profit above your high-water mark",
    "strategy_fee": "Live strategies, {period}: {quantity} x Rs 100",
}


class MeteringReport(BaseModel):
    period: str
    tenants: int
    charges_created: int
    invoice_items_posted: int
    amount_posted_paise: int
    invoice_items_adopted: int = (
        0  # found already at Stripe (an earlier run's answer was lost): not posted again
    )
    failed: list[str]


def period_bounds(period: str) -> tuple[int, int]:
    """An IST calendar month as [start, end) epoch milliseconds."""
    try:
        year, month = (int(x) for x in period.split("-"))
        start = datetime(year, month, 1, tzinfo=IST)
    except ValueError as exc:
        raise Invalid(f"period: {period!r} is not a month like 2026-10") from exc
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=IST)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def previous_period(now_ms: int) -> str:
    now = ist_from_ms(now_ms)
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def compute_charges(
    account: BillingAccount,
    profit_share_bps: int,
    period: str,
    trades: list[Trade],
    deployments: list[StrategyDeployment],
    now_ms: int,
) -> tuple[list[UsageCharge], BillingAccount]:
    """The month's four charges and the account with its new cumulative P&L and high-water mark. Pure."""
    start, end = period_bounds(period)
    live = [t for t in trades if t.mode == "live" and start <= t.executed_ms < end]
    winners = [t for t in live if (t.pnl_paise or 0) > SUCCESS_THRESHOLD_PAISE]
    period_pnl = sum(t.pnl_paise or 0 for t in live)
    cum = account.cum_pnl_paise + period_pnl
    above = max(0, cum - account.hwm_paise)
    share = above * profit_share_bps // 10_000  # floor: never charge a fraction of a paisa
    strategies = [
        d
        for d in deployments
        if d.mode == "live" and d.active_from_ms < end and (d.active_to_ms is None or d.active_to_ms > start)
    ]

    def charge(stream: str, quantity: int, unit: int | None, amount: int, **detail: object) -> UsageCharge:
        return UsageCharge(
            tenant_id=account.tenant_id,
            period=period,
            stream=stream,
            currency="INR",
            quantity=quantity,
            unit_minor=unit,
            amount_minor=amount,
            detail=dict(detail),
            state="pending" if amount > 0 else "posted",
            created_ms=now_ms,
        )

    charges = [
        charge("trade_fee", len(live), TRADE_FEE_PAISE, len(live) * TRADE_FEE_PAISE),
        charge("success_fee", len(winners), SUCCESS_FEE_PAISE, len(winners) * SUCCESS_FEE_PAISE),
        charge(
            "profit_share",
            1 if share else 0,
            None,
            share,
            share_bps=profit_share_bps,
            period_pnl_paise=period_pnl,
            cumulative_pnl_paise=cum,
            high_water_mark_paise=account.hwm_paise,
        ),
        charge(
            "strategy_fee",
            len(strategies),
            STRATEGY_FEE_PAISE,
            len(strategies) * STRATEGY_FEE_PAISE,
            strategies=[d.strategy_id for d in strategies],
        ),
    ]
    updated = account.model_copy(
        update={
            "cum_pnl_paise": cum,
            "hwm_paise": max(account.hwm_paise, cum),
            "version": account.version + 1,
        }
    )
    return charges, updated


class UsageMetering:
    def __init__(
        self, store: BillingStore, plans: PlanSource, gateway: StripeGateway, clock: Clock, free_plan_id: str
    ) -> None:
        self._store, self._plans, self._gateway, self._clock = store, plans, gateway, clock
        self._free_plan_id = free_plan_id  # metered accounts bill in rupees: the INR ladder's free plan

    def run(self, period: str | None = None) -> MeteringReport:
        now = self._clock.now_ms()
        period = period or previous_period(now)
        _, end = period_bounds(period)
        if end > now:
            raise Invalid(f"period: {period} has not ended yet; meter it after it closes")
        report = MeteringReport(
            period=period,
            tenants=0,
            charges_created=0,
            invoice_items_posted=0,
            amount_posted_paise=0,
            failed=[],
        )
        for account in self._store.accounts():
            if not account.customer_id or account.catalog not in (None, "INR"):
                continue  # the metered streams are priced in rupees: INR accounts with a Stripe customer
            report.tenants += 1
            try:
                self._meter(account, period, now, report)
            except Exception:  # one tenant's failure never stops the run; the next run resumes it
                log.exception("metering %s for %s failed", period, account.tenant_id)
                report.failed.append(account.tenant_id)
        return report

    def _meter(self, account: BillingAccount, period: str, now: int, report: MeteringReport) -> None:
        charges = self._store.charges(account.tenant_id, period)
        for _ in range(3):
            if charges:
                break
            plan = self._plans.get(entitled_plan_id(account, self._free_plan_id))
            start, end = period_bounds(period)
            computed, updated = compute_charges(
                account,
                plan.profit_share_bps if plan else 0,
                period,
                self._store.trades(account.tenant_id, start, end),
                self._store.deployments(account.tenant_id),
                now,
            )
            if self._store.create_charges(computed, updated, account.version):
                report.charges_created += len(computed)
                charges = computed
                break
            charges = self._store.charges(account.tenant_id, period)  # someone else metered it, or
            account = self._store.account(account.tenant_id) or account  # the account moved: recompute
        assert account.customer_id is not None
        pending = [c for c in charges if c.state == "pending"]
        if not pending:
            return
        opened, _ = period_bounds(
            period
        )  # a month's items are posted after it closes: never before it opened
        posted = {
            item.metadata.get("stream"): item.item_id
            for item in self._gateway.invoice_items(account.customer_id, opened // 1000)
            if item.metadata.get("tenant_id") == account.tenant_id and item.metadata.get("period") == period
        }
        for c in pending:
            found = posted.get(c.stream)
            if found is not None:  # posted by an earlier run whose answer was lost: adopt it, post nothing
                log.info("metering %s %s %s: adopting invoice item %s", c.tenant_id, period, c.stream, found)
                self._store.mark_posted(c, found, now)
                report.invoice_items_adopted += 1
                continue
            item_id = self._gateway.create_invoice_item(
                customer_id=account.customer_id,
                amount_minor=c.amount_minor,
                currency=c.currency,
                description=DESCRIPTIONS[c.stream].format(
                    period=period, quantity=c.quantity, share=int(c.detail.get("share_bps", 0)) // 100
                ),
                metadata={"tenant_id": c.tenant_id, "period": period, "stream": c.stream},
                idempotency_key=f"tm-usage-{c.tenant_id}-{period}-{c.stream}",
            )
            self._store.mark_posted(c, item_id, now)
            report.invoice_items_posted += 1
            report.amount_posted_paise += c.amount_minor
