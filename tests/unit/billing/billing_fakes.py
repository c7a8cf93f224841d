"""In-memory fakes for billing: the store keeps DynamoDB's contract (a failed condition writes nothing)."""

from __future__ import annotations

import builtins
import copy
from typing import Any

from mantra.billing.account import BillingAccount
from mantra.billing.gateway import CheckoutSession
from mantra.billing.plans import load_catalogs
from mantra.billing.records import (
    BillingChange,
    HistoryRow,
    InvoiceRecord,
    Notice,
    StrategyDeployment,
    Trade,
    UsageCharge,
)
from mantra.domain import Plan, Role, User


class MemoryPlans:
    def __init__(self) -> None:
        self._plans = {p.plan_id: p for p in load_catalogs()}

    def get(self, plan_id: str) -> Plan | None:
        return self._plans.get(plan_id)

    def all(self) -> list[Plan]:
        return list(self._plans.values())


def user(tenant: str = "tnt_a", user_id: str = "usr_a", plan: str = "starter") -> User:
    return User(
        user_id=user_id,
        email=f"{user_id}@example.in",
        name=user_id,
        tenant_id=tenant,
        roles=frozenset({Role.TRADER}),
        plan_id=plan,
    )


class MemoryBillingStore:
    def __init__(self, users: list[User] | None = None) -> None:
        self.accounts_: dict[str, BillingAccount] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.handled: dict[str, bool] = {}
        self.history_: list[HistoryRow] = []
        self.invoices_: dict[tuple[str, str], InvoiceRecord] = {}
        self.outbox: dict[str, Notice] = {}
        self.users: dict[str, User] = {u.user_id: u for u in users or []}
        self.trades_: list[Trade] = []
        self.deployments_: list[StrategyDeployment] = []
        self.charges_: dict[tuple[str, str], UsageCharge] = {}
        self.commits = 0

    def account(self, tenant_id: str) -> BillingAccount | None:
        return self.accounts_.get(tenant_id)

    def account_by_customer(self, customer_id: str) -> BillingAccount | None:
        return next((a for a in self.accounts_.values() if a.customer_id == customer_id), None)

    def accounts(self) -> list[BillingAccount]:
        return list(self.accounts_.values())

    def dunning_due(self, now_ms: int) -> list[BillingAccount]:
        return [
            a
            for a in self.accounts_.values()
            if a.in_dunning and a.grace_until_ms is not None and a.grace_until_ms <= now_ms
        ]

    def tenant_users(self, tenant_id: str) -> list[User]:
        return [u for u in self.users.values() if u.tenant_id == tenant_id]

    def event_seen(self, event_id: str) -> bool:
        return event_id in self.events

    def commit(self, change: BillingChange) -> bool:
        if change.event is not None and change.event.event_id in self.events:
            return False
        if change.account is not None:
            current = self.accounts_.get(change.account.tenant_id)
            if change.expected_version is None and current is not None:
                return False
            if change.expected_version is not None and (
                current is None or current.version != change.expected_version
            ):
                return False
        if any(n.notice_id in self.outbox for n in change.notices):
            return False
        self.commits += 1
        if change.event is not None:
            self.events[change.event.event_id] = change.event.payload
            self.handled[change.event.event_id] = change.event.handled
        if change.account is not None:
            self.accounts_[change.account.tenant_id] = change.account
        self.history_ += change.history
        if change.invoice is not None:
            self.invoices_[(change.invoice.tenant_id, change.invoice.invoice_id)] = change.invoice
        for n in change.notices:
            self.outbox[n.notice_id] = n
        if change.plan_for_users is not None:
            ids, plan = change.plan_for_users
            for uid in ids:
                self.users[uid] = self.users[uid].model_copy(update={"plan_id": plan})
        return True

    def history(self) -> list[HistoryRow]:
        return list(self.history_)

    def invoices(self, tenant_id: str | None = None) -> list[InvoiceRecord]:
        return [i for (t, _), i in self.invoices_.items() if tenant_id is None or t == tenant_id]

    def trades(self, tenant_id: str, start_ms: int, end_ms: int) -> builtins.list[Trade]:
        return [t for t in self.trades_ if t.tenant_id == tenant_id and start_ms <= t.executed_ms < end_ms]

    def deployments(self, tenant_id: str) -> builtins.list[StrategyDeployment]:
        return [d for d in self.deployments_ if d.tenant_id == tenant_id]

    def charges(self, tenant_id: str, period: str) -> builtins.list[UsageCharge]:
        return [c for (t, k), c in self.charges_.items() if t == tenant_id and k.startswith(f"{period}#")]

    def charges_in(self, period: str) -> builtins.list[UsageCharge]:
        return [c for c in self.charges_.values() if c.period == period]

    def create_charges(
        self, charges: builtins.list[UsageCharge], account: BillingAccount, expected_version: int
    ) -> bool:
        if any((c.tenant_id, c.charge_key) in self.charges_ for c in charges):
            return False
        current = self.accounts_.get(account.tenant_id)
        if current is None or current.version != expected_version:
            return False
        for c in charges:
            self.charges_[(c.tenant_id, c.charge_key)] = c
        self.accounts_[account.tenant_id] = account
        return True

    def mark_posted(self, charge: UsageCharge, invoice_item_id: str, at_ms: int) -> None:
        key = (charge.tenant_id, charge.charge_key)
        self.charges_[key] = self.charges_[key].model_copy(
            update={"state": "posted", "stripe_invoice_item": invoice_item_id, "posted_ms": at_ms}
        )

    def save_customer(self, tenant_id: str, customer_id: str, catalog: str) -> None:
        current = self.accounts_.get(tenant_id) or BillingAccount(tenant_id=tenant_id)
        self.accounts_[tenant_id] = current.model_copy(
            update={
                "customer_id": customer_id,
                "catalog": current.catalog or catalog,
                "version": current.version + 1,
            }
        )


class FakeGateway:
    """Records calls; an idempotency key seen before returns the first answer (as Stripe does)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.keys: dict[str, Any] = {}
        self.fail_next = False
        self.on_cancel: Any = None  # e.g. deliver the subscription.deleted webhook, as Stripe would, mid-call

    def _once(self, key: str, name: str, args: dict[str, Any], result: Any) -> Any:
        if key in self.keys:
            return copy.deepcopy(self.keys[key])
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("stripe unreachable")
        self.calls.append((name, args))
        self.keys[key] = result
        return copy.deepcopy(result)

    def ensure_customer(self, tenant_id: str, email: str, name: str) -> str:
        return str(self._once(f"tm-customer-{tenant_id}", "customer", {"email": email}, f"cus_{tenant_id}"))

    def price_id(self, lookup_key: str) -> str:
        return f"price_{lookup_key}"

    def create_checkout_session(self, **kw: Any) -> CheckoutSession:
        n = len(self.calls)
        return CheckoutSession.model_validate(
            self._once(
                kw["idempotency_key"],
                "checkout",
                kw,
                {"session_id": f"cs_{n}", "url": f"https://checkout.test/cs_{n}"},
            )
        )

    def create_portal_session(self, customer_id: str, return_url: str) -> str:
        self.calls.append(("portal", {"customer": customer_id}))
        return f"https://portal.test/{customer_id}"

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return {"id": subscription_id}

    def change_price(self, subscription_id: str, price_id: str, plan_id: str, idempotency_key: str) -> dict:
        args = {"subscription": subscription_id, "price": price_id, "plan": plan_id}
        return dict(
            self._once(idempotency_key, "change_price", args, {"id": subscription_id, "status": "active"})
        )

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, idempotency_key: str) -> dict:
        args = {"subscription": subscription_id, "cancel": cancel}
        return dict(self._once(idempotency_key, "cancel_at_period_end", args, {"id": subscription_id}))

    def cancel_now(self, subscription_id: str, idempotency_key: str) -> dict:
        args = {"subscription": subscription_id}
        first = idempotency_key not in self.keys
        result = dict(
            self._once(idempotency_key, "cancel_now", args, {"id": subscription_id, "status": "canceled"})
        )
        if first and self.on_cancel is not None:
            self.on_cancel(subscription_id)
        return result

    def create_invoice_item(self, **kw: Any) -> str:
        return str(self._once(kw["idempotency_key"], "invoice_item", kw, f"ii_{len(self.calls)}"))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [args for n, args in self.calls if n == name]
