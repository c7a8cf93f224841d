"""Plans and the caller's subscription: check out, open the portal, change plan, cancel or resume, invoices.

Subscription state changes when Stripe confirms it (signed webhooks); these routes ask Stripe, with
idempotency keys, and return at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from mantra.billing.gateway import CheckoutSession
from mantra.billing.records import InvoiceRecord, UsageCharge
from mantra.billing.service import PlanChange, SubscriptionView
from mantra.domain import Plan
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Services, SignedIn
from frontend_api.errors import answers

router = APIRouter(prefix="/api/billing", tags=["billing"])


class PlanIn(BaseModel):
    plan_id: str = Field(min_length=1, max_length=64, examples=["pro"])


class PortalOut(BaseModel):
    url: str = Field(examples=["https://billing.stripe.com/p/session/test_123"])


@router.get("/plans", response_model=list[Plan], summary="The plan catalog (INR or USD ladder)")
def plans(
    services: Services,
    user: CurrentUser,
    catalog: Annotated[str | None, Query(pattern="^(INR|USD|inr|usd)$", examples=["INR"])] = None,
) -> list[Plan]:
    return services.billing.catalog(catalog)


@router.get("/subscription", response_model=SubscriptionView, summary="My plan and subscription")
def subscription(services: Services, user: CurrentUser) -> SubscriptionView:
    return services.billing.view(user)


@router.post(
    "/checkout",
    response_model=CheckoutSession,
    status_code=201,
    responses=answers(409),
    summary="Start a subscription: a Stripe Checkout link (14-day trial on the first paid plan)",
)
def checkout(body: PlanIn, services: Services, user: SignedIn) -> CheckoutSession:
    return services.billing.checkout(user, body.plan_id)


@router.post(
    "/portal",
    response_model=PortalOut,
    responses=answers(404),
    summary="Stripe's customer portal: cards, invoices, cancel",
)
def portal(services: Services, user: SignedIn) -> PortalOut:
    return PortalOut(url=services.billing.portal(user))


@router.post(
    "/change-plan",
    response_model=PlanChange,
    status_code=202,
    responses=answers(404, 409),
    summary="Upgrade or downgrade now, with proration (applied when Stripe confirms)",
)
def change_plan(body: PlanIn, services: Services, user: SignedIn) -> PlanChange:
    return services.billing.change_plan(user, body.plan_id)


@router.post(
    "/cancel",
    response_model=SubscriptionView,
    responses=answers(404),
    summary="Cancel at the end of the paid period",
)
def cancel(services: Services, user: SignedIn) -> SubscriptionView:
    return services.billing.set_cancel(user, True)


@router.post(
    "/resume",
    response_model=SubscriptionView,
    responses=answers(404),
    summary="Undo a cancellation before the period ends",
)
def resume(services: Services, user: SignedIn) -> SubscriptionView:
    return services.billing.set_cancel(user, False)


@router.get("/invoices", response_model=list[InvoiceRecord], summary="My invoices, newest first")
def invoices(services: Services, user: CurrentUser) -> list[InvoiceRecord]:
    return services.billing.invoices(user)


@router.get("/usage", response_model=list[UsageCharge], summary="Metered charges for a month (IST)")
def usage(
    services: Services,
    user: CurrentUser,
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])],
) -> list[UsageCharge]:
    return services.billing.usage(user, period)
