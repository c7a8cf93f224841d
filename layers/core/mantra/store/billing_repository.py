"""DynamoDB access for billing: accounts, history, invoices, usage charges, ledgers, Stripe events.

A Stripe event and everything it changes (account, history row, invoice, notices in the outbox, the users'
plan) go in one transaction whose first condition is "this event id is new": a duplicate changes nothing.
"""

from __future__ import annotations

import builtins
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.transactions import TransactWrite

import mantra.store.models  # noqa: F401 - first: the billing models extend its table list
from mantra.alerts.plan_limits import PLAN_CHANGED, PlanChanged
from mantra.billing.account import BillingAccount, InvoiceMark
from mantra.billing.records import (
    BillingChange,
    HistoryRow,
    InvoiceRecord,
    StrategyDeployment,
    Trade,
    UsageCharge,
)
from mantra.domain import User
from mantra.store.billing_models import (
    BillingAccountItem,
    InvoiceRecordItem,
    StrategyDeploymentItem,
    SubscriptionHistoryItem,
    TradeItem,
    UsageChargeItem,
)
from mantra.store.models import BillingEventItem, OutboxItem, UserItem
from mantra.store.repositories import (
    DynamoUserRepository,
    _expiry,
    _n,
    _transact,
)

D = TypeVar("D", bound=BaseModel)
EVENT_RETENTION_DAYS = 30  # Stripe retries for 3 days; keep the dedupe record well beyond that
NOTICE_DETAIL_TYPE = "billing.notice"

_ACCOUNT_FIELDS = [
    "customer_id",
    "catalog",
    "subscription_id",
    "status",
    "plan_id",
    "as_of_s",
    "started_s",
    "current_period_start_s",
    "current_period_end_s",
    "cancel_at_period_end",
    "trial_end_s",
    "trial_used",
    "ended_s",
    "past_due_since_ms",
    "grace_until_ms",
    "downgraded_ms",
    "hwm_paise",
    "cum_pnl_paise",
]


def _opt(v: Any) -> int | None:
    return None if v is None else int(v)


def _domain(cls: type[D], item: Any) -> D:
    """A stored item as the domain record of the same field names (PynamoDB gives numbers back as int)."""
    values = {k: v for k, v in item.attribute_values.items() if k in cls.model_fields}
    return cls.model_validate(values)


def _invoice_is_older(inv: InvoiceRecord) -> Any:
    """The stored record of this invoice is absent or earlier in the invoice's own life than ``inv``: failed
    attempts by time, then paid (final)."""
    absent = InvoiceRecordItem.invoice_id.does_not_exist()
    if inv.status == "paid":
        return absent | (InvoiceRecordItem.status != "paid") | (InvoiceRecordItem.as_of_s < inv.as_of_s)
    return absent | ((InvoiceRecordItem.status != "paid") & (InvoiceRecordItem.as_of_s < inv.as_of_s))


class DynamoBillingRepository:
    # accounts
    def account(self, tenant_id: str) -> BillingAccount | None:
        try:
            return self._account(BillingAccountItem.get(tenant_id, consistent_read=True))
        except BillingAccountItem.DoesNotExist:
            return None

    def account_by_customer(self, customer_id: str) -> BillingAccount | None:
        for item in BillingAccountItem.by_customer.query(customer_id, limit=1):
            return self.account(item.tenant_id)  # the index is eventually consistent: re-read the table
        return None

    def accounts(self) -> list[BillingAccount]:
        return [self._account(i) for i in BillingAccountItem.scan()]

    def dunning_due(self, now_ms: int) -> list[BillingAccount]:
        items = BillingAccountItem.in_dunning.query("past_due", BillingAccountItem.grace_until_ms <= now_ms)
        return [a for a in (self.account(i.tenant_id) for i in items) if a is not None and a.in_dunning]

    def tenant_users(self, tenant_id: str) -> list[User]:
        return [DynamoUserRepository._to_domain(i) for i in UserItem.by_tenant.query(tenant_id)]

    def event_seen(self, event_id: str) -> bool:
        try:
            BillingEventItem.get(event_id, attributes_to_get=["event_id"])
            return True
        except BillingEventItem.DoesNotExist:
            return False

    def commit(self, change: BillingChange) -> bool:
        """Write the change atomically; False if a condition failed (duplicate event or a concurrent write)."""
        at = change.received_ms

        def write(tx: TransactWrite) -> None:
            if change.event is not None:
                e = change.event
                item = BillingEventItem(
                    event_id=e.event_id,
                    event_type=e.event_type,
                    created_s=e.created_s,
                    received_ms=at,
                    livemode=e.livemode,
                    payload=e.payload,
                    handled=e.handled,
                )
                item.expires_at = _expiry(at, EVENT_RETENTION_DAYS)
                tx.save(item, condition=BillingEventItem.event_id.does_not_exist())
            if change.account is not None:
                account = self._item(change.account)
                if change.expected_version is None:
                    tx.save(account, condition=BillingAccountItem.tenant_id.does_not_exist())
                else:
                    tx.save(account, condition=BillingAccountItem.version == change.expected_version)
            for row in change.history:
                tx.save(
                    SubscriptionHistoryItem(
                        tenant_id=row.tenant_id,
                        sort_key=f"{row.at_s:010d}#{row.event_id}",
                        subscription_id=row.subscription_id,
                        status=row.status,
                        plan_id=row.plan_id,
                        at_s=row.at_s,
                        event_id=row.event_id,
                    )
                )
            if change.invoice is not None:
                inv = change.invoice
                tx.save(
                    InvoiceRecordItem(
                        tenant_id=inv.tenant_id,
                        invoice_id=inv.invoice_id,
                        subscription_id=inv.subscription_id,
                        status=inv.status,
                        currency=inv.currency,
                        amount_due_minor=inv.amount_due_minor,
                        amount_paid_minor=inv.amount_paid_minor,
                        created_s=inv.created_s,
                        as_of_s=inv.as_of_s,
                        lines=[line.model_dump() for line in inv.lines],
                    ),
                    condition=_invoice_is_older(inv),  # a concurrent later state of it is never undone
                )
            for notice in change.notices:
                outbox = OutboxItem(
                    event_id=notice.notice_id,
                    detail_type=NOTICE_DETAIL_TYPE,
                    detail={"event_id": notice.notice_id, **notice.model_dump()},
                    created_ms=at,
                )
                outbox.expires_at = _expiry(at, 7)
                tx.save(outbox, condition=OutboxItem.event_id.does_not_exist())
            if change.plan_for_users is not None:
                user_ids, plan_id = change.plan_for_users
                for user_id in user_ids:
                    tx.update(
                        UserItem(user_id=user_id),
                        actions=[UserItem.plan_id.set(plan_id)],
                        condition=UserItem.user_id.exists(),
                    )
                if change.account is not None:  # the plan's limits follow (alerts over them are paused)
                    tenant = change.account.tenant_id
                    # one per account version: the commit is guarded by that version, so it is written once
                    event_id = f"plan:{tenant}:{plan_id}:v{change.expected_version or 0}"
                    changed = PlanChanged(
                        event_id=event_id, tenant_id=tenant, plan_id=plan_id, user_ids=user_ids, changed_ms=at
                    )
                    outbox = OutboxItem(
                        event_id=event_id,
                        detail_type=PLAN_CHANGED,
                        detail=changed.model_dump(),
                        created_ms=at,
                    )
                    outbox.expires_at = _expiry(at, 7)
                    tx.save(outbox, condition=OutboxItem.event_id.does_not_exist())

        return _transact(BillingAccountItem, write)

    # history and invoices (the finance view reads them whole: a report, not a request path)
    def history(self) -> list[HistoryRow]:
        return [_domain(HistoryRow, i) for i in SubscriptionHistoryItem.scan()]

    def invoices(self, tenant_id: str | None = None) -> list[InvoiceRecord]:
        items = InvoiceRecordItem.query(tenant_id) if tenant_id else InvoiceRecordItem.scan()
        return [_domain(InvoiceRecord, i) for i in items]

    def invoice(self, tenant_id: str, invoice_id: str) -> InvoiceRecord | None:
        try:
            return _domain(InvoiceRecord, InvoiceRecordItem.get(tenant_id, invoice_id, consistent_read=True))
        except InvoiceRecordItem.DoesNotExist:
            return None

    # ledgers (the trading engine writes; metering reads)
    def put_trade(self, trade: Trade) -> None:
        TradeItem(
            sort_key=f"{trade.executed_ms:013d}#{trade.trade_id}", **trade.model_dump(exclude_none=True)
        ).save()

    def trades(self, tenant_id: str, start_ms: int, end_ms: int) -> builtins.list[Trade]:
        lo, hi = f"{start_ms:013d}#", f"{end_ms:013d}#"
        items = TradeItem.query(tenant_id, TradeItem.sort_key.between(lo, hi))
        return [_domain(Trade, i) for i in items if _n(i.executed_ms) < end_ms]

    def put_deployment(self, deployment: StrategyDeployment) -> None:
        StrategyDeploymentItem(**deployment.model_dump(exclude_none=True)).save()

    def deployments(self, tenant_id: str) -> builtins.list[StrategyDeployment]:
        return [_domain(StrategyDeployment, i) for i in StrategyDeploymentItem.query(tenant_id)]

    # usage charges
    def charges(self, tenant_id: str, period: str) -> builtins.list[UsageCharge]:
        items = UsageChargeItem.query(tenant_id, UsageChargeItem.charge_key.startswith(f"{period}#"))
        return [_domain(UsageCharge, i) for i in items]

    def charges_in(self, period: str) -> builtins.list[UsageCharge]:
        return [_domain(UsageCharge, i) for i in UsageChargeItem.by_period.query(period)]

    def create_charges(
        self, charges: builtins.list[UsageCharge], account: BillingAccount, expected_version: int
    ) -> bool:
        """The period's charges and the account's new high-water mark, together; only the first run wins."""

        def write(tx: TransactWrite) -> None:
            for c in charges:
                item = UsageChargeItem(
                    tenant_id=c.tenant_id,
                    charge_key=c.charge_key,
                    period=c.period,
                    stream=c.stream,
                    currency=c.currency,
                    quantity=c.quantity,
                    unit_minor=c.unit_minor,
                    amount_minor=c.amount_minor,
                    detail=c.detail,
                    state=c.state,
                    created_ms=c.created_ms,
                )
                tx.save(item, condition=UsageChargeItem.charge_key.does_not_exist())
            tx.save(self._item(account), condition=BillingAccountItem.version == expected_version)

        return _transact(UsageChargeItem, write)

    def mark_posted(self, charge: UsageCharge, invoice_item_id: str, at_ms: int) -> None:
        UsageChargeItem(tenant_id=charge.tenant_id, charge_key=charge.charge_key).update(
            actions=[
                UsageChargeItem.state.set("posted"),
                UsageChargeItem.stripe_invoice_item.set(invoice_item_id),
                UsageChargeItem.posted_ms.set(at_ms),
            ]
        )

    def save_customer(self, tenant_id: str, customer_id: str, catalog: str) -> None:
        """Link a new Stripe customer to the tenant (creating the account) without touching its state."""
        BillingAccountItem(tenant_id=tenant_id).update(
            actions=[
                BillingAccountItem.customer_id.set(customer_id),
                BillingAccountItem.catalog.set(BillingAccountItem.catalog | catalog),
                BillingAccountItem.version.add(1),  # a concurrent transaction on the old version fails
            ]
        )

    # mapping
    @staticmethod
    def _item(a: BillingAccount) -> BillingAccountItem:
        data = {k: getattr(a, k) for k in _ACCOUNT_FIELDS}
        item = BillingAccountItem(tenant_id=a.tenant_id, version=a.version, **data)
        if a.latest_invoice is not None:
            item.latest_invoice = a.latest_invoice.model_dump()
        if a.in_dunning and a.grace_until_ms is not None:
            item.dunning = "past_due"  # sparse index: present only while in dunning
        return item

    @staticmethod
    def _account(i: BillingAccountItem) -> BillingAccount:
        return BillingAccount(
            tenant_id=i.tenant_id,
            customer_id=i.customer_id,
            catalog=i.catalog,
            subscription_id=i.subscription_id,
            status=i.status,
            plan_id=i.plan_id,
            as_of_s=_opt(i.as_of_s) or 0,
            started_s=_opt(i.started_s),
            current_period_start_s=_opt(i.current_period_start_s),
            current_period_end_s=_opt(i.current_period_end_s),
            cancel_at_period_end=bool(i.cancel_at_period_end),
            trial_end_s=_opt(i.trial_end_s),
            trial_used=bool(i.trial_used),
            ended_s=_opt(i.ended_s),
            in_dunning=i.dunning is not None,
            past_due_since_ms=_opt(i.past_due_since_ms),
            grace_until_ms=_opt(i.grace_until_ms),
            downgraded_ms=_opt(i.downgraded_ms),
            latest_invoice=InvoiceMark.model_validate(i.latest_invoice) if i.latest_invoice else None,
            hwm_paise=_opt(i.hwm_paise) or 0,
            cum_pnl_paise=_opt(i.cum_pnl_paise) or 0,
            version=_opt(i.version) or 0,
        )
