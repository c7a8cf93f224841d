"""Billing records other than the account: history rows, invoices, notices, usage charges, the ledgers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mantra.billing.account import BillingAccount


class HistoryRow(BaseModel):
    tenant_id: str
    subscription_id: str
    status: str
    plan_id: str | None = None
    at_s: int
    event_id: str


class InvoiceLine(BaseModel):
    stream: str  # "subscription" or a metered stream
    amount_minor: int


class InvoiceRecord(BaseModel):
    tenant_id: str
    invoice_id: str
    subscription_id: str | None = None
    status: str  # paid | payment_failed
    currency: str
    amount_due_minor: int
    amount_paid_minor: int
    created_s: int
    as_of_s: int
    lines: list[InvoiceLine] = Field(default_factory=list)


class Notice(BaseModel):
    """An e-mail + inbox message to a tenant's users, sent by billing_notices from the outbox."""

    notice_id: str  # deterministic: the Stripe event id (or sweep key) + kind
    tenant_id: str
    kind: str  # payment_failed | downgraded | trial_will_end | payment_received | subscription_started ...
    subject: str
    body: str
    created_ms: int = 0  # fixed when the notice is written: the inbox key, so a redelivery finds its item


class StoredEvent(BaseModel):
    event_id: str
    event_type: str
    created_s: int
    livemode: bool
    payload: dict[str, Any]
    handled: bool


class BillingChange(BaseModel):
    """Everything one Stripe event or sweep changes, written in one transaction (or not at all)."""

    event: StoredEvent | None = None
    received_ms: int = 0
    account: BillingAccount | None = None
    expected_version: int | None = None  # the version read; None: the account must not exist yet
    history: list[HistoryRow] = Field(default_factory=list)
    invoice: InvoiceRecord | None = None
    notices: list[Notice] = Field(default_factory=list)
    plan_for_users: tuple[tuple[str, ...], str] | None = None  # (user ids, plan id) when it changes


class Trade(BaseModel):
    tenant_id: str
    trade_id: str
    user_id: str
    strategy_id: str | None = None
    symbol: str
    side: str  # BUY | SELL
    quantity: int
    price_paise: int
    pnl_paise: int | None = None  # realised P&L of a closing trade
    mode: str = "live"  # live | paper
    executed_ms: int


class StrategyDeployment(BaseModel):
    tenant_id: str
    strategy_id: str
    name: str
    mode: str = "live"
    active_from_ms: int
    active_to_ms: int | None = None


class UsageCharge(BaseModel):
    tenant_id: str
    period: str  # "2026-10"
    stream: str  # trade_fee | success_fee | profit_share | strategy_fee
    currency: str
    quantity: int
    unit_minor: int | None = None
    amount_minor: int
    detail: dict[str, Any] = Field(default_factory=dict)
    state: str = "pending"  # pending | posted
    stripe_invoice_item: str | None = None
    created_ms: int = 0
    posted_ms: int | None = None

    @property
    def charge_key(self) -> str:
        return f"{self.period}#{self.stream}"
