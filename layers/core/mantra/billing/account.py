"""A tenant's billing account and the rules that move it: pure functions over Stripe objects, no I/O.

Stripe may deliver events late, twice or out of order. The account therefore follows the *object's own state*
(the subscription snapshot inside the event) and applies a snapshot only if it is newer than the one it holds:
newer by the event's ``created`` time, and on a tie by how far along the subscription's life the status is
(a cancellation is final). A ``deleted`` that arrives before its ``created`` ends canceled, as it should.

Invoices are ordered the same way, by the invoice's own state and time (``InvoiceMark``): the account keeps the
latest invoice it has seen, and an event for an older invoice, or for the same invoice in a state no further
along (a failure after it was paid), is stale. Dunning is then derived from the two objects' truth
(``wants_dunning``): the latest invoice of the current subscription is unpaid and no newer subscription state
says the subscription is paid up again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mantra.domain import Plan

# how far along a subscription's life a status is: on a timestamp tie, the later stage wins
STAGE = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "unpaid": 4,
    "paused": 4,
    "incomplete_expired": 5,
    "canceled": 6,
}
ENTITLED = frozenset({"trialing", "active", "past_due"})  # past_due keeps the plan through the grace period
PAYING = frozenset({"active", "past_due"})
DAY_MS = 86_400_000


INVOICE_STAGE = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}  # paid and void are final


class InvoiceMark(BaseModel):
    """What the account keeps of the latest invoice it has seen: enough to order the next invoice event."""

    invoice_id: str
    subscription_id: str | None = None
    created_s: int  # the invoice's own creation time: a later invoice is a newer one
    number_seq: int = (
        0  # the sequence in Stripe's invoice number (PREFIX-0007): orders invoices of one second
    )
    due_s: int  # when it was finalized and first attempted: a grace period counts from here
    status: str  # Stripe's invoice status: open (failed, retrying) | paid | void | uncollectible
    attempts: int = 0
    as_of_s: int  # Stripe time of the event that brought this state
    failed_s: int | None = None  # Stripe time of the latest failed attempt applied
    amount_due_minor: int = 0
    currency: str = "inr"

    @property
    def paid(self) -> bool:
        return self.status in ("paid", "void")

    def order(self) -> tuple[int, int, str, int, int, int]:
        stage = INVOICE_STAGE.get(self.status, 1)
        return (self.created_s, self.number_seq, self.invoice_id, stage, self.attempts, self.as_of_s)


class BillingAccount(BaseModel):
    tenant_id: str
    customer_id: str | None = None
    catalog: str | None = None
    subscription_id: str | None = None
    status: str | None = None
    plan_id: str | None = None
    as_of_s: int = 0
    started_s: int | None = None
    current_period_start_s: int | None = None
    current_period_end_s: int | None = None
    cancel_at_period_end: bool = False
    trial_end_s: int | None = None
    trial_used: bool = False
    ended_s: int | None = None
    in_dunning: bool = False
    past_due_since_ms: int | None = None
    grace_until_ms: int | None = None
    downgraded_ms: int | None = None
    latest_invoice: InvoiceMark | None = None  # the newest invoice seen, by the invoice's own order
    hwm_paise: int = 0  # profit-share high-water mark of cumulative live P&L
    cum_pnl_paise: int = 0  # cumulative live P&L metered so far
    version: int = 0


class SubscriptionSnapshot(BaseModel):
    """What the account needs from a Stripe subscription object."""

    subscription_id: str
    customer_id: str
    status: str
    plan_id: str | None
    tenant_id: str | None
    started_s: int | None
    current_period_start_s: int | None
    current_period_end_s: int | None
    cancel_at_period_end: bool
    trial_end_s: int | None
    ended_s: int | None


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def snapshot(obj: dict[str, Any], plans_by_price: dict[str, str]) -> SubscriptionSnapshot:
    """Read a subscription object. The plan comes from the price's lookup key, else from metadata."""
    items = ((obj.get("items") or {}).get("data")) or [{}]
    item = items[0] or {}
    price = item.get("price") or {}
    meta = obj.get("metadata") or {}
    plan = plans_by_price.get(str(price.get("lookup_key") or "")) or meta.get("plan_id")
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return SubscriptionSnapshot(
        subscription_id=str(obj["id"]),
        customer_id=str(customer or ""),
        status=str(obj.get("status") or "incomplete"),
        plan_id=str(plan) if plan else None,
        tenant_id=meta.get("tenant_id"),
        started_s=_int(obj.get("start_date")) or _int(obj.get("created")),
        current_period_start_s=_int(item.get("current_period_start"))
        or _int(obj.get("current_period_start")),
        current_period_end_s=_int(item.get("current_period_end")) or _int(obj.get("current_period_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        trial_end_s=_int(obj.get("trial_end")),
        ended_s=_int(obj.get("ended_at")) or _int(obj.get("canceled_at")),
    )


def is_newer(account: BillingAccount, snap: SubscriptionSnapshot, created_s: int) -> bool:
    if account.subscription_id is None:
        return True
    if created_s != account.as_of_s:
        return created_s > account.as_of_s
    if snap.subscription_id != account.subscription_id:
        return True  # same second, another subscription: the one that arrives later replaces
    return STAGE.get(snap.status, 0) >= STAGE.get(account.status or "", 0)


def apply_subscription(
    account: BillingAccount, snap: SubscriptionSnapshot, created_s: int, catalog: str | None
) -> BillingAccount:
    """The account after this snapshot (the caller checked ``is_newer``)."""
    fresh_subscription = snap.subscription_id != account.subscription_id
    updated = account.model_copy(
        update={
            "customer_id": snap.customer_id or account.customer_id,
            "subscription_id": snap.subscription_id,
            "status": snap.status,
            "plan_id": snap.plan_id or account.plan_id,
            "catalog": catalog or account.catalog,
            "as_of_s": created_s,
            "started_s": snap.started_s,
            "current_period_start_s": snap.current_period_start_s,
            "current_period_end_s": snap.current_period_end_s,
            "cancel_at_period_end": snap.cancel_at_period_end,
            "trial_end_s": snap.trial_end_s,
            "trial_used": account.trial_used or snap.trial_end_s is not None,
            "ended_s": snap.ended_s,
        }
    )
    dunned = account.latest_invoice.subscription_id if account.latest_invoice else account.subscription_id
    if fresh_subscription and snap.subscription_id != dunned:
        # a new subscription: dunning ends and a dunning downgrade is undone. Not the subscription the dunning
        # was about (its first events can arrive after the sweep cancelled it), and not a later state of the
        # same one: the sweep cancelled that at Stripe, so only its paid latest invoice undoes the downgrade.
        return clear_dunning(updated)
    return updated


def invoice_mark(inv: dict[str, Any], event_created_s: int, failed: bool) -> InvoiceMark:
    """Read an invoice object (from ``invoice.paid`` or ``invoice.payment_failed``) as the account keeps it."""
    transitions = inv.get("status_transitions") or {}
    created = _int(inv.get("created")) or event_created_s
    parent = ((inv.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = inv.get("subscription") or parent
    if isinstance(sub, dict):
        sub = sub.get("id")
    status = str(inv.get("status") or ("open" if failed else "paid"))
    if failed and status == "paid":  # a failure event carries the invoice as it was then: unpaid
        status = "open"
    return InvoiceMark(
        invoice_id=str(inv["id"]),
        subscription_id=str(sub) if sub else None,
        created_s=created,
        number_seq=_number_seq(inv.get("number")),
        due_s=_int(transitions.get("finalized_at")) or created,
        status=status,
        attempts=_int(inv.get("attempt_count")) or 0,
        as_of_s=event_created_s,
        failed_s=event_created_s if failed else None,
        amount_due_minor=_int(inv.get("amount_due")) or 0,
        currency=str(inv.get("currency") or "inr").lower(),
    )


def _number_seq(number: Any) -> int:
    tail = str(number or "").rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def is_newer_invoice(account: BillingAccount, mark: InvoiceMark) -> bool:
    """A later invoice, or the same invoice further along its life (more attempts, then paid). Ties: stale."""
    return account.latest_invoice is None or mark.order() > account.latest_invoice.order()


def wants_dunning(account: BillingAccount) -> bool:
    """The objects' truth, as far as the account has seen it: the current subscription's latest invoice is
    unpaid, the subscription is not over, and no subscription state newer than the failure says it is paid up."""
    inv = account.latest_invoice
    if inv is None or inv.paid or inv.failed_s is None or account.status == "canceled":
        return False
    if account.subscription_id and inv.subscription_id and inv.subscription_id != account.subscription_id:
        return False  # an invoice of an earlier subscription
    return not paid_up(account)


def paid_up(account: BillingAccount) -> bool:
    """Positive evidence that a dunning is over: the latest invoice is paid, or a subscription state newer than
    its failure says the subscription is active again. (A cancellation is not: the sweep finishes that dunning.)"""
    inv = account.latest_invoice
    live = account.status in ("active", "trialing")
    if inv is None:
        return live  # an account from before invoices were ordered: as it always was
    if inv.paid:
        return True
    return live and inv.failed_s is not None and account.as_of_s > inv.failed_s


def start_dunning(account: BillingAccount, now_ms: int, grace_days: int) -> BillingAccount:
    """Payment failed: the plan stays for ``grace_days``, then the daily sweep downgrades. Idempotent.

    The grace period counts from the unpaid invoice's own due time when the account knows it (so a failure
    heard late, or events in any order, give the same deadline), else from ``now_ms``."""
    if account.in_dunning or account.downgraded_ms is not None:
        return account
    since = account.latest_invoice.due_s * 1000 if account.latest_invoice else now_ms
    return account.model_copy(
        update={
            "in_dunning": True,
            "past_due_since_ms": since,
            "grace_until_ms": since + grace_days * DAY_MS,
        }
    )


def clear_dunning(account: BillingAccount) -> BillingAccount:
    return account.model_copy(
        update={"in_dunning": False, "past_due_since_ms": None, "grace_until_ms": None, "downgraded_ms": None}
    )


def downgrade(account: BillingAccount, now_ms: int) -> BillingAccount:
    return account.model_copy(update={"in_dunning": False, "downgraded_ms": now_ms})


def entitled_plan_id(account: BillingAccount | None, free_plan_id: str) -> str:
    """The plan the tenant may use now: the subscription's while it is live and not downgraded."""
    if account is None or account.downgraded_ms is not None or account.plan_id is None:
        return free_plan_id
    if account.status in ENTITLED:
        return account.plan_id
    return free_plan_id


def plans_by_price(plans: list[Plan]) -> dict[str, str]:
    return {p.stripe_price: p.plan_id for p in plans if p.stripe_price}
