"""Billing tables: the tenant's billing account (customer + current subscription), its history, invoices,
usage charges, and the trade and strategy ledgers that metered revenue is computed from."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel


class CustomerIndex(GlobalSecondaryIndex["BillingAccountItem"]):
    """Stripe events name the customer; this finds the tenant."""

    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)


class DunningIndex(GlobalSecondaryIndex["BillingAccountItem"]):
    """Sparse: only accounts in dunning carry ``dunning``; the daily sweep reads just those."""

    class Meta:
        index_name = "in_dunning"
        projection = AllProjection()

    dunning = UnicodeAttribute(hash_key=True)  # always "past_due" while set
    grace_until_ms = NumberAttribute(range_key=True)


class BillingAccountItem(BaseModel):
    """One per tenant: the Stripe customer and the subscription state as of ``as_of_s``."""

    base_name = "billing_accounts"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "billing_accounts"

    tenant_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(null=True)
    catalog = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # Stripe's subscription status
    plan_id = UnicodeAttribute(null=True)  # the plan the subscription is for
    as_of_s = NumberAttribute(null=True)  # Stripe time of the newest state applied
    started_s = NumberAttribute(null=True)
    current_period_start_s = NumberAttribute(null=True)
    current_period_end_s = NumberAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(null=True)
    trial_end_s = NumberAttribute(null=True)
    trial_used = BooleanAttribute(null=True)
    ended_s = NumberAttribute(null=True)
    dunning = UnicodeAttribute(null=True)
    past_due_since_ms = NumberAttribute(null=True)
    grace_until_ms = NumberAttribute(null=True)
    downgraded_ms = NumberAttribute(null=True)
    latest_invoice = JSONAttribute(null=True)  # InvoiceMark: the newest invoice seen, to order invoice events
    hwm_paise = NumberAttribute(null=True)  # profit-share high-water mark
    cum_pnl_paise = NumberAttribute(null=True)  # cumulative live P&L metered so far
    version = NumberAttribute(default=0)
    by_customer = CustomerIndex()
    in_dunning = DunningIndex()


class SubscriptionHistoryItem(BaseModel):
    """Every subscription state applied, in Stripe time: MRR, churn and conversion are computed from it."""

    base_name = "subscription_history"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "subscription_history"

    tenant_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "{at_s:010d}#{event_id}"
    subscription_id = UnicodeAttribute()
    status = UnicodeAttribute()
    plan_id = UnicodeAttribute(null=True)
    at_s = NumberAttribute()
    event_id = UnicodeAttribute()


class InvoiceRecordItem(BaseModel):
    base_name = "invoices"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "invoices"

    tenant_id = UnicodeAttribute(hash_key=True)
    invoice_id = UnicodeAttribute(range_key=True)
    subscription_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # paid | payment_failed
    currency = UnicodeAttribute()
    amount_due_minor = NumberAttribute()
    amount_paid_minor = NumberAttribute()
    created_s = NumberAttribute()
    as_of_s = NumberAttribute()
    lines = JSONAttribute()  # [{"stream": "subscription" | "trade_fee" | ..., "amount_minor": n}]


class PeriodIndex(GlobalSecondaryIndex["UsageChargeItem"]):
    class Meta:
        index_name = "by_period"
        projection = AllProjection()

    period = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class UsageChargeItem(BaseModel):
    """One metered charge per tenant, period and revenue stream: written before Stripe is called."""

    base_name = "usage_charges"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "usage_charges"

    tenant_id = UnicodeAttribute(hash_key=True)
    charge_key = UnicodeAttribute(range_key=True)  # "{period}#{stream}"
    period = UnicodeAttribute()  # "2026-10" (IST calendar month)
    stream = UnicodeAttribute()
    currency = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_minor = NumberAttribute(null=True)
    amount_minor = NumberAttribute()
    detail = JSONAttribute(null=True)
    state = UnicodeAttribute()  # pending | posted
    stripe_invoice_item = UnicodeAttribute(null=True)
    created_ms = NumberAttribute()
    posted_ms = NumberAttribute(null=True)
    by_period = PeriodIndex()


class TradeItem(BaseModel):
    """Executed trades (the trading engine writes them); live ones are metered."""

    base_name = "trades"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "trades"

    tenant_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "{executed_ms:013d}#{trade_id}"
    trade_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    strategy_id = UnicodeAttribute(null=True)
    symbol = UnicodeAttribute()
    side = UnicodeAttribute()
    quantity = NumberAttribute()
    price_paise = NumberAttribute()
    pnl_paise = NumberAttribute(null=True)  # realised on a closing trade
    mode = UnicodeAttribute()  # live | paper
    executed_ms = NumberAttribute()


class StrategyDeploymentItem(BaseModel):
    """A strategy a tenant runs live, and for how long: Rs 100 a month each."""

    base_name = "strategy_deployments"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "strategy_deployments"

    tenant_id = UnicodeAttribute(hash_key=True)
    strategy_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    mode = UnicodeAttribute()
    active_from_ms = NumberAttribute()
    active_to_ms = NumberAttribute(null=True)


BILLING_MODELS: tuple[type[BaseModel], ...] = (
    BillingAccountItem,
    SubscriptionHistoryItem,
    InvoiceRecordItem,
    UsageChargeItem,
    TradeItem,
    StrategyDeploymentItem,
)
