"""Property: every subscription life, delivered in any order, duplicated, dropped and redelivered, ends right.

A small model of Stripe (``Life``) plays a tenant's subscription: checkout (with or without a trial), paid and
failed renewals, retries, recovery, upgrades and downgrades, cancellation. It records the events Stripe would
send, with the objects' own states and times, and the truth at the end. Hypothesis then delivers those events
to the real webhook service in any order, with duplicates, and runs the dunning sweep at any points in between
(well after any grace period, against Stripe's truth, as the sweep re-reads it). The final plan, the dunning
state and the invoices must be what Stripe's truth says, and nobody who paid is ever cancelled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from billing_fakes import FakeGateway, MemoryBillingStore, MemoryPlans, user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mantra.billing import stripe_events as se
from mantra.billing.dunning import DunningService
from mantra.billing.webhook import StripeWebhookService
from mantra.clock import ManualClock
from mantra.settings import Settings

SECRET = "whsec_property"
T0 = 1_790_000_000
DAY = 86_400
PRICES = {"trader": 99_900, "pro": 299_900, "elite": 999_900}
ACTIONS = ("renew_paid", "renew_failed", "retry_failed", "recover", "upgrade", "downgrade", "cancel")


@dataclass
class Invoice:
    invoice_id: str
    number: int
    created: int
    amount: int
    status: str = "open"  # open | paid
    attempts: int = 0


@dataclass
class Life:
    """Stripe's side of one tenant's subscription: the truth, and the events it sent."""

    trial: bool
    plan: str = "pro"
    status: str = "incomplete"
    t: int = T0
    period_start: int = T0
    invoices: list[Invoice] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ever_failed: bool = False

    # Stripe's objects, as its events carry them
    def _subscription(self, created: int, **extra: Any) -> dict[str, Any]:
        price = se.price(
            price_id=f"price_{self.plan}",
            lookup_key=f"{self.plan}_monthly",
            unit_amount=PRICES[self.plan],
            currency="inr",
        )
        obj = se.subscription(
            customer="cus_a",
            price=price,
            created=T0,
            period_start=self.period_start,
            period_end=self.period_start + 30 * DAY,
            status=self.status,
            sub_id="sub_1",
            metadata={"tenant_id": "tnt_a", "plan_id": self.plan},
            trial_start=T0 if self.trial else None,
            trial_end=T0 + 14 * DAY if self.trial else None,
            **extra,
        )
        obj["latest_invoice"] = self.invoices[-1].invoice_id if self.invoices else None
        return obj

    def _invoice(self, inv: Invoice) -> dict[str, Any]:
        line = se.invoice_line(
            amount=inv.amount,
            currency="inr",
            description=self.plan,
            period_start=inv.created,
            period_end=inv.created + 30 * DAY,
        )
        obj = se.invoice(
            customer="cus_a",
            subscription_id="sub_1",
            lines=[line],
            currency="inr",
            created=inv.created,
            period_start=inv.created,
            period_end=inv.created + 30 * DAY,
            status=inv.status,
            invoice_id=inv.invoice_id,
            attempt_count=inv.attempts,
            number=f"CUSA-{inv.number:04d}",
        )
        return obj

    def _send(self, kind: str, obj: dict[str, Any], created: int) -> None:
        self.events.append(se.build_event(kind, obj, created=created, event_id=f"evt_{len(self.events)}"))

    def _new_invoice(self, amount: int, status: str) -> Invoice:
        n = len(self.invoices) + 1
        inv = Invoice(f"in_{n}", n, self.t, amount, status=status, attempts=1)
        self.invoices.append(inv)
        return inv

    @property
    def open_invoice(self) -> Invoice | None:
        latest = self.invoices[-1] if self.invoices else None
        return latest if latest is not None and latest.status == "open" else None

    # what happens at Stripe
    def start(self) -> None:
        self.status = "trialing" if self.trial else "active"
        inv = self._new_invoice(0 if self.trial else PRICES[self.plan], "paid")
        self._send("customer.subscription.created", self._subscription(self.t), self.t)
        self._send("invoice.paid", self._invoice(inv), self.t)

    def act(self, action: str) -> None:
        if self.status == "canceled":
            return
        if action in ("renew_paid", "renew_failed") and self.open_invoice is None:
            self.t += 30 * DAY
            self.period_start = self.t
            if action == "renew_paid":
                self.status = "active"
                inv = self._new_invoice(PRICES[self.plan], "paid")
                self._send("customer.subscription.updated", self._subscription(self.t), self.t)
                self._send("invoice.paid", self._invoice(inv), self.t)
            else:
                self.ever_failed = True
                self.status = "past_due"
                inv = self._new_invoice(PRICES[self.plan], "open")
                self._send("invoice.payment_failed", self._invoice(inv), self.t)
                self._send("customer.subscription.updated", self._subscription(self.t), self.t)
        elif action == "retry_failed" and (inv := self.open_invoice) is not None:
            self.t += 3 * DAY
            inv.attempts += 1
            self._send("invoice.payment_failed", self._invoice(inv), self.t)
        elif action == "recover" and (inv := self.open_invoice) is not None:
            self.t += DAY
            inv.status, inv.attempts = "paid", inv.attempts + 1
            self.status = "active"
            self._send("invoice.paid", self._invoice(inv), self.t)
            self._send("customer.subscription.updated", self._subscription(self.t), self.t)
        elif action in ("upgrade", "downgrade"):
            ladder = list(PRICES)
            step = 1 if action == "upgrade" else -1
            moved = ladder[min(len(ladder) - 1, max(0, ladder.index(self.plan) + step))]
            if moved != self.plan:
                self.t += DAY
                self.plan = moved
                self._send("customer.subscription.updated", self._subscription(self.t), self.t)
        elif action == "cancel":
            self.t += DAY
            self.status = "canceled"
            obj = self._subscription(self.t, canceled_at=self.t, ended_at=self.t)
            self._send("customer.subscription.deleted", obj, self.t)

    def stripe_truth(self) -> dict[str, Any]:
        latest = self.invoices[-1]
        return {
            "id": "sub_1",
            "status": self.status,
            "latest_invoice": {"id": latest.invoice_id, "status": latest.status},
        }

    @property
    def paid(self) -> bool:
        return self.status in ("active", "trialing")

    def cancelled_by_dunning(self, at: int) -> None:
        """The sweep cancelled the subscription: Stripe ends it and says so with a webhook."""
        self.status = "canceled"
        self.t = max(self.t, at)
        obj = self._subscription(self.t, canceled_at=self.t, ended_at=self.t)
        self._send("customer.subscription.deleted", obj, self.t)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[Life, list[int], list[int]]:
    """A life, the order its events are delivered in (duplicates and late redeliveries included), and the
    delivery positions before which the dunning sweep runs."""
    life = Life(trial=draw(st.booleans()), plan=draw(st.sampled_from(list(PRICES))))
    life.start()
    for action in draw(st.lists(st.sampled_from(ACTIONS), max_size=8)):
        life.act(action)
    order = list(draw(st.permutations(range(len(life.events)))))
    for _ in range(draw(st.integers(0, 4))):  # duplicates (at-least-once) and redeliveries after a drop
        order.insert(draw(st.integers(0, len(order))), draw(st.sampled_from(range(len(life.events)))))
    runs = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return life, order, [position for position, run in enumerate(runs) if run]


class Platform:
    def __init__(self, life: Life) -> None:
        self.life = life
        self.clock = ManualClock((life.t + 60 * DAY) * 1000)  # delivered late; sweeps well past any grace
        self.store = MemoryBillingStore([user("tnt_a", "usr_a"), user("tnt_a", "usr_b")])
        self.store.save_customer("tnt_a", "cus_a", "INR")  # the checkout linked the customer first
        plans, config = MemoryPlans(), Settings(billing_grace_days=7)
        self.webhooks = StripeWebhookService(self.store, plans, SECRET, config, self.clock)
        self.gateway = FakeGateway()
        self.gateway.on_cancel = lambda _: life.cancelled_by_dunning(self.clock.now // 1000)
        self.dunning = DunningService(self.store, plans, self.gateway, config, self.clock)

    def deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event).encode()
        result = self.webhooks.receive(payload, se.sign(payload, SECRET, self.clock.now // 1000))
        assert result.handled, event["type"]  # every event is acknowledged (2xx), stale ones included

    def sweep(self) -> None:
        self.gateway.subscriptions["sub_1"] = self.life.stripe_truth()  # what the sweep re-reads
        paid = self.life.paid
        before = len(self.gateway.named("cancel_now"))
        self.dunning.run()
        cancelled = len(self.gateway.named("cancel_now")) > before
        assert not (paid and cancelled), "a paying customer was cancelled"


@settings(
    max_examples=1_000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(deliveries())
def test_any_life_in_any_delivery_order_ends_as_stripe_says_and_nobody_paid_is_cancelled(
    case: tuple[Life, list[int], list[int]],
) -> None:
    life, order, sweeps = case
    platform = Platform(life)
    made = len(life.events)  # what Stripe sent before any sweep: anything after, the sweep caused
    # Given a subscription life at Stripe, When its events arrive in this order with sweeps in between
    for position, index in enumerate(order):
        for _ in range(sweeps.count(position)):
            platform.sweep()
        platform.deliver(life.events[index])
    # (and a last sweep, and anything Stripe sent because of it)
    platform.sweep()
    for event in life.events[made:]:
        platform.deliver(event)
    # Then the account follows Stripe's truth
    account = platform.store.account("tnt_a")
    assert account is not None
    users = {u.plan_id for u in platform.store.tenant_users("tnt_a")}
    cancels = platform.gateway.named("cancel_now")
    if life.paid:
        assert (account.status, account.plan_id) == (life.status, life.plan)
        assert not account.in_dunning and account.downgraded_ms is None
        assert users == {life.plan} and cancels == []
    else:
        assert account.status == "canceled" and users == {"starter"}
        assert len(cancels) <= 1  # the sweep cancels an unpaid subscription once, a cancelled one never
        assert not account.in_dunning
    # And every invoice is recorded in its final state, with its lines
    recorded = {i.invoice_id: i for i in platform.store.invoices("tnt_a")}
    assert set(recorded) == {inv.invoice_id for inv in life.invoices}
    for inv in life.invoices:
        assert recorded[inv.invoice_id].status == ("paid" if inv.status == "paid" else "payment_failed")
        assert [line.amount_minor for line in recorded[inv.invoice_id].lines] == [inv.amount]
    # And nobody whose payments never failed was told they had
    kinds = [n.kind for n in platform.store.outbox.values()]
    if not life.ever_failed:
        assert "payment_failed" not in kinds and "downgraded" not in kinds
