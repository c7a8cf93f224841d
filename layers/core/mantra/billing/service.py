"""What a signed-in user does with billing: see the plan, check out, open the portal, change or cancel.

The API only asks Stripe; the resulting state arrives as webhooks (``billing.webhook``), the one writer of
subscription state. Every outgoing call carries an idempotency key derived from the request's intent and the
account's state, so a retried request (or a re-invoked Lambda) repeats nothing.
"""

from __future__ import annotations

from pydantic import BaseModel

from mantra.billing.account import ENTITLED, BillingAccount, entitled_plan_id
from mantra.billing.gateway import CheckoutSession, StripeGateway
from mantra.billing.plans import free_plan_id
from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.records import InvoiceRecord, UsageCharge
from mantra.clock import Clock
from mantra.domain import Plan, User
from mantra.errors import Conflict, Invalid, NotFound
from mantra.settings import Settings

HOUR_MS = 3_600_000


class SubscriptionView(BaseModel):
    tenant_id: str
    plan: Plan  # the plan in force now
    subscribed_plan_id: str | None
    subscription_id: str | None
    status: str | None
    trial_end_s: int | None
    current_period_end_s: int | None
    cancel_at_period_end: bool
    in_dunning: bool
    grace_until_ms: int | None
    downgraded: bool
    trial_available: bool


class PlanChange(BaseModel):
    subscription_id: str
    from_plan_id: str | None
    to_plan_id: str
    proration: str = "create_prorations"
    note: str = (
        "The change is applied when Stripe confirms it (a webhook); prorations appear on the next invoice."
    )


class BillingService:
    def __init__(
        self,
        store: BillingStore,
        plans: PlanSource,
        gateway: StripeGateway,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._store, self._plans, self._gateway = store, plans, gateway
        self._settings, self._clock = settings, clock

    def catalog(self, catalog: str | None = None) -> list[Plan]:
        plans = self._plans.all()
        return [p for p in plans if catalog is None or p.catalog == catalog.upper()]

    def view(self, user: User) -> SubscriptionView:
        account = self._store.account(user.tenant_id)
        plan = self._plan(entitled_plan_id(account, self._free(account, user).plan_id), "plan")
        return SubscriptionView(
            tenant_id=user.tenant_id,
            plan=plan,
            subscribed_plan_id=account.plan_id if account else None,
            subscription_id=account.subscription_id if account else None,
            status=account.status if account else None,
            trial_end_s=account.trial_end_s if account else None,
            current_period_end_s=account.current_period_end_s if account else None,
            cancel_at_period_end=bool(account and account.cancel_at_period_end),
            in_dunning=bool(account and account.in_dunning),
            grace_until_ms=account.grace_until_ms if account else None,
            downgraded=bool(account and account.downgraded_ms),
            trial_available=not (account and account.trial_used),
        )

    def checkout(self, user: User, plan_id: str) -> CheckoutSession:
        plan = self._plan(plan_id, "plan_id")
        if plan.free or not plan.stripe_price:
            raise Invalid(f"plan_id: {plan.name} is free: no checkout needed")
        account = self._store.account(user.tenant_id)
        if account and account.catalog and account.catalog != plan.catalog:
            raise Invalid(
                f"plan_id: your account bills in {account.catalog}; choose a {account.catalog} plan"
            )
        if self._live(account):
            assert account is not None
            raise Conflict(
                f"you already subscribe to {account.plan_id} ({account.status}): "
                "change plan with POST /api/billing/change-plan"
            )
        customer = account.customer_id if account and account.customer_id else None
        if customer is None:
            customer = self._gateway.ensure_customer(user.tenant_id, user.email, user.name)
            self._store.save_customer(user.tenant_id, customer, plan.catalog)
        trial = 0 if account and account.trial_used else plan.trial_days
        base = self._settings.public_base_url.rstrip("/")
        return self._gateway.create_checkout_session(
            tenant_id=user.tenant_id,
            customer_id=customer,
            price_id=self._gateway.price_id(plan.stripe_price),
            plan_id=plan.plan_id,
            trial_days=trial,
            success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/billing/cancelled",
            # the same request within the hour reuses the same session instead of opening another
            idempotency_key=f"tm-checkout-{user.tenant_id}-{plan.plan_id}-{self._clock.now_ms() // HOUR_MS}",
        )

    def portal(self, user: User) -> str:
        account = self._store.account(user.tenant_id)
        if account is None or not account.customer_id:
            raise NotFound("no billing account yet: subscribe first with POST /api/billing/checkout")
        base = self._settings.public_base_url.rstrip("/")
        return self._gateway.create_portal_session(account.customer_id, f"{base}/billing")

    def change_plan(self, user: User, plan_id: str) -> PlanChange:
        account = self._require_live(user)
        plan = self._plan(plan_id, "plan_id")
        if plan.catalog != (account.catalog or plan.catalog):
            raise Invalid(
                f"plan_id: your account bills in {account.catalog}; choose a {account.catalog} plan"
            )
        if plan.free or not plan.stripe_price:
            raise Invalid(f"plan_id: to move to {plan.name}, cancel with POST /api/billing/cancel")
        if plan.plan_id == account.plan_id:
            raise Conflict(f"plan_id: you are already on {plan.name}")
        assert account.subscription_id is not None
        self._gateway.change_price(
            account.subscription_id,
            self._gateway.price_id(plan.stripe_price),
            plan.plan_id,
            idempotency_key=f"tm-change-{account.subscription_id}-{plan.plan_id}-{account.as_of_s}",
        )
        return PlanChange(
            subscription_id=account.subscription_id, from_plan_id=account.plan_id, to_plan_id=plan.plan_id
        )

    def set_cancel(self, user: User, cancel: bool) -> SubscriptionView:
        account = self._require_live(user)
        assert account.subscription_id is not None
        self._gateway.set_cancel_at_period_end(
            account.subscription_id,
            cancel,
            idempotency_key=f"tm-cancel-{account.subscription_id}-{int(cancel)}-{account.as_of_s}",
        )
        return self.view(user).model_copy(update={"cancel_at_period_end": cancel})

    def invoices(self, user: User) -> list[InvoiceRecord]:
        return sorted(self._store.invoices(user.tenant_id), key=lambda i: i.created_s, reverse=True)

    def usage(self, user: User, period: str) -> list[UsageCharge]:
        return self._store.charges(user.tenant_id, period)

    # helpers
    def _require_live(self, user: User) -> BillingAccount:
        account = self._store.account(user.tenant_id)
        if not self._live(account):
            raise NotFound("no active subscription: subscribe first with POST /api/billing/checkout")
        assert account is not None
        return account

    @staticmethod
    def _live(account: BillingAccount | None) -> bool:
        return bool(account and account.subscription_id and account.status in ENTITLED)

    def _plan(self, plan_id: str, field: str) -> Plan:
        plan = self._plans.get(plan_id)
        if plan is None:
            known = ", ".join(p.plan_id for p in self._plans.all())
            raise Invalid(f"{field}: unknown plan {plan_id!r}; plans: {known}")
        return plan

    def _free(self, account: BillingAccount | None, user: User) -> Plan:
        catalog = account.catalog if account and account.catalog else None
        if catalog is None:
            current = self._plans.get(user.plan_id)
            catalog = current.catalog if current else "INR"
        return self._plan(free_plan_id(self._plans.all(), catalog, self._settings.billing_free_plan), "plan")
