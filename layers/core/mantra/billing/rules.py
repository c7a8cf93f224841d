"""Stripe event -> the change it makes to a tenant's billing. Reads the current state; writes nothing itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mantra.billing.account import (
    INVOICE_STAGE,
    BillingAccount,
    SubscriptionSnapshot,
    apply_subscription,
    clear_dunning,
    entitled_plan_id,
    invoice_mark,
    is_newer,
    is_newer_invoice,
    paid_up,
    plans_by_price,
    snapshot,
    start_dunning,
    wants_dunning,
)
from mantra.billing.plans import free_plan_id
from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.records import (
    BillingChange,
    HistoryRow,
    InvoiceLine,
    InvoiceRecord,
    Notice,
    StoredEvent,
)
from mantra.domain import Plan
from mantra.errors import Invalid
from mantra.money import to_rupees
from mantra.settings import Settings

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
)


class BillingRules:
    def __init__(self, store: BillingStore, plans: PlanSource, settings: Settings) -> None:
        self._store, self._plans, self._settings = store, plans, settings
        self._handlers: dict[str, Callable[[dict[str, Any], int], BillingChange]] = {
            "checkout.session.completed": self._checkout_completed,
            "invoice.paid": self._invoice_paid,
            "invoice.payment_failed": self._invoice_failed,
            **dict.fromkeys(SUBSCRIPTION_EVENTS, self._subscription),
        }

    def handles(self, event_type: str) -> bool:
        return event_type in self._handlers

    def change_for(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        return self._handlers[event["type"]](event, now_ms)

    # event handlers
    def _checkout_completed(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        session = _object(event)
        meta = session.get("metadata") or {}
        tenant_id = session.get("client_reference_id") or meta.get("tenant_id")
        if not tenant_id:
            return self._unmatched(event, now_ms, "checkout session names no tenant")
        account, expected = self._load(str(tenant_id))
        plan = self._plan(meta.get("plan_id"))
        updated = account.model_copy(
            update={
                "customer_id": _id(session.get("customer")) or account.customer_id,
                "catalog": account.catalog or (plan.catalog if plan else None),
                "trial_used": account.trial_used or bool(plan and plan.trial_days),
                "version": account.version + 1,
            }
        )
        change = self._change(event, now_ms, updated, expected)
        sub = session.get("subscription")
        if isinstance(sub, dict):  # expanded: apply it like a subscription event
            return self._with_subscription(change, account, updated, snapshot(sub, self._by_price()), event)
        return change

    def _subscription(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        obj = _object(event)
        snap = snapshot(obj, self._by_price())
        tenant_id = snap.tenant_id or self._tenant_of(snap.customer_id)
        if tenant_id is None:
            return self._unmatched(event, now_ms, f"subscription {snap.subscription_id} has no known tenant")
        account, expected = self._load(tenant_id)
        change = self._change(event, now_ms, None, expected)
        change = self._with_subscription(change, account, account, snap, event)
        if event["type"] == "customer.subscription.trial_will_end":
            ends = _date(snap.trial_end_s)
            change.notices.append(
                self._notice(
                    event,
                    tenant_id,
                    "trial_will_end",
                    "Your Trade Mantra trial ends soon",
                    f"Your trial ends on {ends}. Your card will be charged then; cancel any time before.",
                )
            )
        return change

    def _invoice_paid(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        return self._invoice_event(event, now_ms, failed=False)

    def _invoice_failed(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        return self._invoice_event(event, now_ms, failed=True)

    def _invoice_event(self, event: dict[str, Any], now_ms: int, *, failed: bool) -> BillingChange:
        """Invoices in any order: the invoice record follows its own invoice's life (a failure after it was
        paid changes nothing); the account follows only its latest invoice (an older invoice's event is
        recorded and changes no dunning state)."""
        inv = _object(event)
        account = self._account_for_invoice(inv)
        if account is None:
            return self._unmatched(event, now_ms, f"invoice {inv.get('id')} has no known customer")
        change = self._change(event, now_ms, None, account.version)
        record = self._invoice(account.tenant_id, inv, "payment_failed" if failed else "paid", event)
        stored = self._store.invoice(account.tenant_id, record.invoice_id)
        if stored is None or _record_order(record) > _record_order(stored):
            change.invoice = record
        mark = invoice_mark(inv, int(event.get("created", 0)), failed)
        if not is_newer_invoice(account, mark):
            log.info(
                "stripe event %s: invoice %s is stale for %s", event["id"], mark.invoice_id, account.tenant_id
            )
            return change
        updated = account.model_copy(update={"latest_invoice": mark, "version": account.version + 1})
        if mark.paid and (account.in_dunning or account.downgraded_ms is not None):
            updated = clear_dunning(updated)
            change.plan_for_users = users_to_move(self._store, updated.tenant_id, self._entitled(updated))
            change.notices.append(
                self._notice(
                    event,
                    account.tenant_id,
                    "payment_received",
                    "Payment received: your plan is active",
                    f"Thank you: we received {_money(inv.get('amount_paid'), inv.get('currency'))}.",
                )
            )
        change.account = self._follow_dunning(change, event, updated, now_ms)
        return change

    def _follow_dunning(
        self, change: BillingChange, event: dict[str, Any], account: BillingAccount, now_ms: int
    ) -> BillingAccount:
        """Dunning as the subscription and its latest invoice say: start it (with the e-mail) or end it."""
        wanted = wants_dunning(account)
        if wanted and not account.in_dunning and account.downgraded_ms is None:
            dunning = start_dunning(account, now_ms, self._settings.billing_grace_days)
            inv = account.latest_invoice
            assert inv is not None
            until = _date((dunning.grace_until_ms or now_ms) // 1000)
            change.notices.append(
                self._notice(
                    event,
                    account.tenant_id,
                    "payment_failed",
                    "Payment failed: please update your card",
                    f"We could not collect {_money(inv.amount_due_minor, inv.currency)}. Your plan stays "
                    f"active until {until}; after that the account moves to the free plan (nothing is deleted). "
                    "Update your card in the billing portal.",
                )
            )
            return dunning
        if account.in_dunning and paid_up(account):
            return clear_dunning(account)
        return account

    # helpers
    def _with_subscription(
        self,
        change: BillingChange,
        before: BillingAccount,
        base: BillingAccount,
        snap: SubscriptionSnapshot,
        event: dict[str, Any],
    ) -> BillingChange:
        created = int(event.get("created", 0))
        if not is_newer(base, snap, created):
            return change  # an older snapshot: recorded, not applied
        plan = self._plan(snap.plan_id)
        updated = apply_subscription(base, snap, created, plan.catalog if plan else None)
        updated = updated.model_copy(update={"version": before.version + 1})
        updated = self._follow_dunning(change, event, updated, int(event.get("created", 0)) * 1000)
        change.account = updated
        change.history.append(
            HistoryRow(
                tenant_id=updated.tenant_id,
                subscription_id=snap.subscription_id,
                status=snap.status,
                plan_id=updated.plan_id,
                at_s=created,
                event_id=str(event["id"]),
            )
        )
        change.plan_for_users = users_to_move(self._store, updated.tenant_id, self._entitled(updated))
        ended = snap.status == "canceled" and before.status != "canceled"
        if ended and not before.in_dunning and before.downgraded_ms is None:  # dunning sends its own notice
            change.notices.append(
                self._notice(
                    event,
                    updated.tenant_id,
                    "subscription_ended",
                    "Your subscription has ended",
                    "Your account is on the free plan now. Your alerts, scanners and backtests are kept.",
                )
            )
        return change

    def _entitled(self, account: BillingAccount) -> str:
        return entitled_plan_id(account, self._free_plan(account))

    def _free_plan(self, account: BillingAccount) -> str:
        return free_plan_id(self._plans.all(), account.catalog, self._settings.billing_free_plan)

    def _load(self, tenant_id: str) -> tuple[BillingAccount, int | None]:
        found = self._store.account(tenant_id)
        if found is None:
            return BillingAccount(tenant_id=tenant_id), None
        return found, found.version

    def _tenant_of(self, customer_id: str) -> str | None:
        found = self._store.account_by_customer(customer_id) if customer_id else None
        return found.tenant_id if found else None

    def _account_for_invoice(self, inv: dict[str, Any]) -> BillingAccount | None:
        customer = _id(inv.get("customer"))
        return self._store.account_by_customer(customer) if customer else None

    def _plan(self, plan_id: object) -> Plan | None:
        return self._plans.get(str(plan_id)) if plan_id else None

    def _by_price(self) -> dict[str, str]:
        return plans_by_price(self._plans.all())

    @staticmethod
    def _change(
        event: dict[str, Any], now_ms: int, account: BillingAccount | None, expected: int | None
    ) -> BillingChange:
        return BillingChange(
            event=StoredEvent(
                event_id=str(event["id"]),
                event_type=str(event["type"]),
                created_s=int(event.get("created", 0)),
                livemode=bool(event.get("livemode", False)),
                payload=event,
                handled=True,
            ),
            received_ms=now_ms,
            account=account,
            expected_version=expected,
        )

    def ignored(self, event: dict[str, Any], now_ms: int) -> BillingChange:
        """The event alone, stored as not handled: acknowledged once, nothing else changes."""
        change = self._change(event, now_ms, None, None)
        assert change.event is not None
        change.event = change.event.model_copy(update={"handled": False})
        return change

    def _unmatched(self, event: dict[str, Any], now_ms: int, why: str) -> BillingChange:
        log.warning("stripe event %s not applied: %s", event.get("id"), why)
        return self.ignored(event, now_ms)

    @staticmethod
    def _notice(event: dict[str, Any], tenant_id: str, kind: str, subject: str, body: str) -> Notice:
        return Notice(
            notice_id=f"{event['id']}:{kind}",
            tenant_id=tenant_id,
            kind=kind,
            subject=subject,
            body=body,
            created_ms=int(event.get("created", 0)) * 1000,  # fixed: the inbox key of a redelivered notice
        )

    @staticmethod
    def _invoice(tenant_id: str, inv: dict[str, Any], status: str, event: dict[str, Any]) -> InvoiceRecord:
        lines = [
            InvoiceLine(
                stream=str((line.get("metadata") or {}).get("stream") or "subscription"),
                amount_minor=int(line.get("amount") or 0),
            )
            for line in ((inv.get("lines") or {}).get("data") or [])
        ]
        parent = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        return InvoiceRecord(
            tenant_id=tenant_id,
            invoice_id=str(inv["id"]),
            subscription_id=_id(inv.get("subscription")) or _id(parent),
            status=status,
            currency=str(inv.get("currency") or "inr").upper(),
            amount_due_minor=int(inv.get("amount_due") or 0),
            amount_paid_minor=int(inv.get("amount_paid") or 0),
            created_s=int(inv.get("created") or event.get("created") or 0),
            as_of_s=int(event.get("created") or 0),
            lines=lines,
        )


def _record_order(record: InvoiceRecord) -> tuple[int, int]:
    """One invoice's states in its own order: failed attempts by time, then paid (final)."""
    return (INVOICE_STAGE["paid"] if record.status == "paid" else INVOICE_STAGE["open"], record.as_of_s)


def users_to_move(store: BillingStore, tenant_id: str, plan_id: str) -> tuple[tuple[str, ...], str] | None:
    """The tenant's users not yet on ``plan_id`` (the account's plan applies to all of them), or None."""
    stale = tuple(u.user_id for u in store.tenant_users(tenant_id) if u.plan_id != plan_id)
    return (stale, plan_id) if stale else None


def _object(event: dict[str, Any]) -> dict[str, Any]:
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict) or "id" not in obj:
        raise Invalid(f"event {event.get('id')}: data.object is missing or has no id")
    return obj


def _id(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _date(epoch_s: int | None) -> str:
    if epoch_s is None:
        return "the end of the trial"
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%d %b %Y")


def _money(amount: Any, currency: Any) -> str:
    major = to_rupees(int(amount or 0))  # two-decimal minor units, exact, for either currency
    if str(currency or "inr").lower() == "inr":
        return f"₹{major:,}"
    return f"{str(currency).upper()} {major:,}"
