"""`mantra stripe`: trigger signed webhook events, sync plan prices into Stripe, list the stand-in's events.

Like the Stripe CLI's ``stripe trigger``, but offline: events are built from the same shapes the local
stand-in sends (``mantra.billing.stripe_events``) and signed with the platform's own endpoint secret.
"""

from __future__ import annotations

import difflib
import json
import time
from typing import Annotated, Any

import httpx
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from mantra.billing import stripe_events as se
from mantra.billing.account import BillingAccount
from mantra.domain import Plan
from mantra.settings import Settings

app = typer.Typer(
    help=(
        "Stripe, locally and in the cloud: send signed test webhooks to the platform, create the plans' "
        "prices, see which events the local Stripe stand-in sent."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

KNOWN_EVENTS = {
    "checkout.session.completed": "a customer paid on the Checkout page (client_reference_id = tenant)",
    "customer.subscription.created": "a subscription began (trialing when the plan has a trial)",
    "customer.subscription.updated": "status or plan changed (--status, default active)",
    "customer.subscription.deleted": "the subscription ended (status canceled)",
    "customer.subscription.trial_will_end": "the trial ends in 3 days",
    "invoice.paid": "a renewal was paid (amount = the plan's price)",
    "invoice.payment_failed": "a renewal charge was declined (attempt 1, retried in 3 days)",
}


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _settings() -> Settings:
    from mantra.cli.main import _local_env

    return _local_env(Settings())


def _stripe_secret(settings: Settings) -> dict[str, Any]:
    from mantra.store.aws import read_secret

    try:
        return read_secret(settings, "stripe")
    except Exception as exc:
        raise RuntimeError(
            f"cannot read the 'stripe' secret ({type(exc).__name__}); is `make run` up? "
            "(or pass --secret whsec_...)"
        ) from None


def paid_plan(plan_id: str, plans: list[Plan]) -> Plan:
    """The catalog's plan with a Stripe price; a helpful ValueError otherwise."""
    by_id = {p.plan_id: p for p in plans}
    plan = by_id.get(plan_id)
    paid = sorted(p.plan_id for p in plans if p.stripe_price)
    if plan is None:
        close = difflib.get_close_matches(plan_id, list(by_id), n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown plan {plan_id!r};{hint} paid plans: {', '.join(paid)}")
    if not plan.stripe_price:
        raise ValueError(f"plan {plan_id!r} is free and has no Stripe price; paid plans: {', '.join(paid)}")
    return plan


def build_trigger_event(
    event_type: str,
    *,
    tenant_id: str,
    plan: Plan,
    now: int,
    customer: str | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """A realistic event of ``event_type`` for the tenant on ``plan``. Ids default to ones derived from the
    tenant, so a sequence of triggers (created, updated, deleted) talks about the same subscription."""
    customer = customer or f"cus_local_{tenant_id}"
    sub_id = subscription_id or f"sub_local_{tenant_id}"
    meta = {"tenant_id": tenant_id, "plan_id": plan.plan_id}
    price = se.price(
        price_id=f"price_local_{plan.stripe_price}",
        lookup_key=plan.stripe_price,
        unit_amount=plan.price_minor,
        currency=plan.currency,
        interval=plan.interval,
    )
    period = se.INTERVAL_SECONDS.get(plan.interval, se.INTERVAL_SECONDS["month"])

    def sub(sub_status: str, **extra: Any) -> dict[str, Any]:
        trialing = sub_status == "trialing"
        trial_end = now + (plan.trial_days or 14) * 86_400 if trialing else None
        return se.subscription(
            customer=customer,
            price=price,
            created=now,
            period_start=now,
            period_end=trial_end or now + period,
            status=sub_status,
            metadata=meta,
            sub_id=sub_id,
            item_id=f"si_local_{tenant_id}",
            trial_start=now if trialing else None,
            trial_end=trial_end,
            **extra,
        )

    def inv(inv_status: str, **extra: Any) -> dict[str, Any]:
        line = se.invoice_line(
            amount=plan.price_minor,
            currency=plan.currency,
            description=f"1 x {plan.name}",
            period_start=now,
            period_end=now + period,
            price=price,
        )
        return se.invoice(
            customer=customer,
            subscription_id=sub_id,
            lines=[line],
            currency=plan.currency,
            created=now,
            period_start=now,
            period_end=now + period,
            status=inv_status,
            metadata=meta,
            **extra,
        )

    previous: dict[str, Any] | None = None
    if event_type == "checkout.session.completed":
        obj = se.checkout_session(
            customer=customer,
            client_reference_id=tenant_id,
            created=now,
            metadata=meta,
            subscription_id=sub_id,
            amount_total=0 if plan.trial_days else plan.price_minor,
            currency=plan.currency,
        )
    elif event_type == "customer.subscription.created":
        obj = sub(status or ("trialing" if plan.trial_days else "active"))
    elif event_type == "customer.subscription.updated":
        obj = sub(status or "active")
        previous = {"status": "trialing" if obj["status"] == "active" else "active"}
    elif event_type == "customer.subscription.deleted":
        obj = sub("canceled", canceled_at=now, ended_at=now)
    elif event_type == "customer.subscription.trial_will_end":
        obj = sub("trialing")
        obj["trial_end"] = now + 3 * 86_400
    elif event_type == "invoice.paid":
        obj = inv("paid", billing_reason="subscription_cycle")
    elif event_type == "invoice.payment_failed":
        obj = inv("open", billing_reason="subscription_cycle", next_payment_attempt=now + 3 * 86_400)
    else:
        obj = {"id": se.new_id("obj"), "object": event_type.split(".")[0], "metadata": meta}
    return se.build_event(event_type, obj, created=now, previous_attributes=previous)


@app.command(
    epilog="Known events: "
    + "; ".join(f"[bold]{k}[/] ({v})" for k, v in KNOWN_EVENTS.items())
    + ". Any other type is sent as an unknown event (the platform must acknowledge and ignore it)."
)
def trigger(
    event: Annotated[str, typer.Argument(help="Event type, e.g. invoice.payment_failed")],
    tenant: Annotated[str | None, typer.Option(help="Tenant id the event is about")] = None,
    email: Annotated[
        str | None, typer.Option(help="...or a user's e-mail: their tenant (needs `make run` up)")
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(help="Plan id from the catalog (a paid one); default: the tenant's, else pro"),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Subscription status for customer.subscription.* (e.g. past_due)")
    ] = None,
    customer: Annotated[
        str | None, typer.Option(help="Stripe customer id (default cus_local_<tenant>)")
    ] = None,
    subscription: Annotated[
        str | None, typer.Option(help="Stripe subscription id (default sub_local_<tenant>)")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Webhook endpoint (default {public_base_url}/webhooks/stripe)")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="Endpoint secret whsec_... (default: webhook_secret of the 'stripe' secret)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the signed event; send nothing")] = False,
) -> None:
    """Send a signed Stripe event to the platform's webhook, as `stripe trigger` does.

    The event looks like the one Stripe (or the local stand-in) would send, is signed with the endpoint secret
    ([bold]Stripe-Signature: t=...,v1=...[/]) and POSTed to the running platform; the response is printed.

    Examples:

      mantra stripe trigger checkout.session.completed --tenant t-pro --plan pro

      mantra stripe trigger invoice.payment_failed --email pro@demo.trademantra.in

      mantra stripe trigger customer.subscription.updated --tenant t-pro --status past_due
    """
    from mantra.billing.plans import load_catalogs

    if bool(tenant) == bool(email):
        _fail("give exactly one of --tenant TENANT_ID or --email USER_EMAIL", 2)
    settings = _settings()
    tenant_id = tenant or _tenant_of(settings, str(email))
    # the tenant's real Stripe ids, so the event is about their subscription (found by --email, which needs
    # the running platform; with --tenant and nothing running, ids derived from the tenant are used)
    account = _account_of(settings, tenant_id, required=email is not None)
    if account is not None:
        customer = customer or account.customer_id
        subscription = subscription or account.subscription_id
        plan = plan or account.plan_id
    if event in NEEDS_SUBSCRIPTION and email is not None and not subscription:
        _fail(
            f"{email} has no subscription (free plan), so {event} would be about nothing; send "
            "checkout.session.completed first, or use a paid user, e.g. --email pro@demo.trademantra.in",
            2,
        )
    try:
        chosen = paid_plan(plan or "pro", load_catalogs())
    except ValueError as exc:
        _fail(str(exc), 2)
    event_body = build_trigger_event(
        event,
        tenant_id=tenant_id,
        plan=chosen,
        now=int(time.time()),
        customer=customer,
        subscription_id=subscription,
        status=status,
    )
    payload = json.dumps(event_body, separators=(",", ":")).encode()
    if dry_run:
        console.print_json(payload.decode())
        return
    try:
        whsec = secret or str(_stripe_secret(settings)["webhook_secret"])
    except RuntimeError as exc:
        _fail(str(exc))
    target = url or f"{settings.public_base_url.rstrip('/')}/webhooks/stripe"
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": se.sign(payload, whsec, int(time.time())),
    }
    try:
        resp = httpx.post(target, content=payload, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the platform at {target} ({type(exc).__name__}); is `make run` up?")
    console.print(f"{event_body['type']} {event_body['id']} -> {target}: HTTP {resp.status_code}")
    if resp.text:
        console.print(resp.text[:2000], markup=False, highlight=False)
    if not resp.is_success:
        raise typer.Exit(1)


NEEDS_SUBSCRIPTION = frozenset(
    {
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
    }
)


def _account_of(settings: Settings, tenant_id: str, required: bool) -> BillingAccount | None:
    from mantra.store import tables
    from mantra.store.billing_repository import DynamoBillingRepository

    tables.configure(settings)
    try:
        found = DynamoBillingRepository().account(tenant_id)
    except Exception as exc:
        if required:
            _fail(f"cannot read {tenant_id}'s billing ({type(exc).__name__}); is `make run` up?")
        return None
    return found


def _tenant_of(settings: Settings, email: str) -> str:
    from mantra.store import tables
    from mantra.store.repositories import DynamoUserRepository

    tables.configure(settings)
    try:
        found = DynamoUserRepository().by_email(email)
    except Exception as exc:
        _fail(
            f"cannot reach DynamoDB to find {email!r} ({type(exc).__name__}); is `make run` up? (or --tenant)"
        )
    if found is None:
        _fail(f"no user {email!r}; seeded users are listed in the README")
    assert found is not None
    return found[0].tenant_id


class PriceSync(BaseModel):
    plan_id: str
    lookup_key: str
    unit_amount: int
    currency: str
    price_id: str
    action: str  # "created" | "exists" | "exists, amount differs"


def sync_prices(client: Any, plans: list[Plan]) -> list[PriceSync]:
    """A product and a recurring price per paid plan, found by lookup key; creating is idempotent per plan, so
    a rerun (or two at once) makes nothing twice. A differing existing price is reported, never changed."""
    out: list[PriceSync] = []
    for plan in plans:
        if not plan.stripe_price or plan.free:
            continue
        found = client.v1.prices.list({"lookup_keys": [plan.stripe_price], "limit": 1}).data
        if found:
            price = found[0]
            same = int(price.unit_amount) == plan.price_minor and str(price.currency) == plan.currency.lower()
            action = "exists" if same else "exists, amount differs"
        else:
            price = client.v1.prices.create(
                {
                    "lookup_key": plan.stripe_price,
                    "unit_amount": plan.price_minor,
                    "currency": plan.currency.lower(),
                    "recurring": {"interval": plan.interval},
                    "product_data": {"name": f"Trade Mantra {plan.name} ({plan.catalog})"},
                    "metadata": {"plan_id": plan.plan_id},
                },
                {"idempotency_key": f"tm-price-{plan.stripe_price}-{plan.currency}-{plan.price_minor}"},
            )
            action = "created"
        out.append(
            PriceSync(
                plan_id=plan.plan_id,
                lookup_key=plan.stripe_price,
                unit_amount=int(price.unit_amount),
                currency=str(price.currency),
                price_id=str(price.id),
                action=action,
            )
        )
    return out


def sync_from_settings(settings: Settings) -> list[PriceSync]:
    """The catalog's prices into the Stripe account of ``settings`` (the stand-in locally)."""
    import stripe

    from mantra.billing.plans import load_catalogs

    api_key = str(_stripe_secret(settings)["api_key"])
    bases: Any = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    client = stripe.StripeClient(api_key, base_addresses=bases, max_network_retries=2)
    return sync_prices(client, load_catalogs())


@app.command()
def sync() -> None:
    """Create a product and price for every paid plan, idempotently (existing lookup keys are skipped).

    Runs against MANTRA_STRIPE_API_BASE: the local stand-in under `make run` (which syncs on start), or real
    Stripe when empty, with the api_key of the 'stripe' secret.
    """
    import stripe

    settings = _settings()
    where = settings.stripe_api_base or "api.stripe.com"
    try:
        rows = sync_from_settings(settings)
    except RuntimeError as exc:
        _fail(str(exc))
    except stripe.APIConnectionError:
        _fail(f"cannot reach Stripe at {where}; is `make run` up?")
    except stripe.StripeError as exc:
        _fail(f"Stripe at {where} said: {exc.user_message or exc}")
    table = Table(title=f"Plan prices in {where}")
    for col in ("plan", "lookup key", "amount (minor)", "currency", "price", ""):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.plan_id, r.lookup_key, str(r.unit_amount), r.currency, r.price_id, r.action)
    console.print(table)


@app.command()
def events(
    type_: Annotated[str | None, typer.Option("--type", help="Only this event type")] = None,
    limit: Annotated[int, typer.Option(help="Show the last N events")] = 50,
) -> None:
    """The events the local Stripe stand-in sent to the platform, with their delivery status."""
    settings = _settings()
    if not settings.stripe_api_base:
        _fail(
            "only the local stand-in records events; for real Stripe use its dashboard or `stripe events list`"
        )
    params = {"type": type_} if type_ else {}
    try:
        resp = httpx.get(f"{settings.stripe_api_base.rstrip('/')}/_test/events", params=params, timeout=10)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        _fail(
            f"cannot reach the Stripe stand-in at {settings.stripe_api_base} ({type(exc).__name__}); is `make run` up?"
        )
    rows = resp.json()["data"][-limit:]
    table = Table(title=f"Events sent by the Stripe stand-in ({len(rows)})")
    for col in ("created", "event", "type", "object", "delivery", "attempts", "last HTTP"):
        table.add_column(col, overflow="fold")
    for e in rows:
        d = e.get("delivery", {})
        table.add_row(
            time.strftime("%H:%M:%S", time.localtime(e["created"])),
            e["id"],
            e["type"],
            str(e["data"]["object"].get("id", "")),
            str(d.get("status", "")),
            str(d.get("attempts", "")),
            str(d.get("last_status_code") or d.get("last_error") or ""),
        )
    console.print(table)
