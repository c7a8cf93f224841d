"""The seeded demo users' billing, made the way a customer's is: for each paid plan a Stripe customer, a Checkout
session completed in the Stripe stand-in, and the trial run out into the first paid invoice, each step arriving
at the platform as the stand-in's signed webhooks. So every route tells the same story (`/api/me` and
`/api/billing/subscription` agree, invoices exist) and the finance view has figures from the first minute.

Idempotent: a tenant that already has a subscription is left alone. Platform staff (admin, finance) are not
customers and are skipped."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources

import httpx

from mantra.container import Container
from mantra.domain import Role, User

STAFF = frozenset({Role.ADMIN, Role.FINANCE})


def demo_customers(container: Container) -> list[User]:
    raw = json.loads(resources.files("mantra.data").joinpath("users_demo.json").read_text())
    paid = {p.plan_id for p in container.plans.all() if not p.free}
    out = []
    for r in raw:
        user = container.users.get(r["user_id"])
        if user is not None and user.plan_id in paid and not (user.roles & STAFF):
            out.append(user)
    return out


def seed_billing(
    container: Container, users: list[User] | None = None, timeout_s: float = 30.0
) -> dict[str, str]:
    """tenant -> the subscription's status once the webhooks are applied ("skipped: ..." when left alone).
    ``users``: the demo customers by default."""
    base = container.settings.stripe_api_base.rstrip("/")
    store, outcome = container.billing_store, {}
    started: dict[str, User] = {}
    for user in demo_customers(container) if users is None else users:
        account = store.account(user.tenant_id)
        if account is not None and account.subscription_id:
            outcome[user.tenant_id] = f"skipped: already {account.plan_id} ({account.status})"
            continue
        session = container.billing.checkout(user, user.plan_id)
        httpx.post(f"{base}/_test/checkout/{session.session_id}/complete", timeout=10).raise_for_status()
        started[user.tenant_id] = user

    def subscription_of(tenant: str) -> str | None:
        account = store.account(tenant)
        return account.subscription_id if account is not None else None

    for tenant in started:  # the trial runs out: the first paid invoice (the webhooks make the account)
        sub = _wait(lambda t=tenant: subscription_of(t), timeout_s)  # type: ignore[misc]
        if sub is None:
            outcome[tenant] = "no subscription arrived (webhooks not applied)"
            continue
        httpx.post(f"{base}/_test/subscriptions/{sub}/advance", timeout=10).raise_for_status()
        done = _wait(lambda t=tenant: _status_if(store.account(t), "active"), timeout_s)  # type: ignore[misc]
        outcome[tenant] = done or "subscription not active yet"
    return outcome


def _status_if(account: object, wanted: str) -> str | None:
    status = getattr(account, "status", None)
    return f"{getattr(account, 'plan_id', '?')} {status}" if status == wanted else None


def _wait(probe: Callable[[], str | None], timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.25)
    return None
