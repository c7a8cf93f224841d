"""Stripe events -> billing state: checkout, trial, upgrade, dunning, downgrade; duplicates and any order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from billing_fakes import FakeGateway, MemoryBillingStore, MemoryPlans, user
from mantra.billing import stripe_events as se
from mantra.billing.dunning import DunningService
from mantra.billing.webhook import StripeWebhookService
from mantra.clock import ManualClock
from mantra.errors import Invalid
from mantra.settings import Settings

SECRET = "whsec_unit"
T0 = 1_790_000_000  # Stripe time (seconds)
DAY = 86_400


class World:
    def __init__(self) -> None:
        self.clock = ManualClock(T0 * 1000)
        self.store = MemoryBillingStore([user("tnt_a", "usr_a"), user("tnt_a", "usr_a2")])
        self.plans = MemoryPlans()
        self.settings = Settings(billing_grace_days=7)
        self.webhooks = StripeWebhookService(self.store, self.plans, SECRET, self.settings, self.clock)
        self.gateway = FakeGateway()
        self.dunning = DunningService(self.store, self.plans, self.gateway, self.settings, self.clock)

    def deliver(self, event: dict[str, Any], *, sign_at: int | None = None) -> Any:
        payload = json.dumps(event).encode()
        ts = sign_at if sign_at is not None else self.clock.now_ms() // 1000
        return self.webhooks.receive(payload, se.sign(payload, SECRET, ts))

    def plan_of_users(self) -> set[str]:
        return {u.plan_id for u in self.store.tenant_users("tnt_a")}


def sub_event(
    kind: str, status: str, created: int, plan: str = "pro", sub_id: str = "sub_1", **extra: Any
) -> dict[str, Any]:
    price = se.price(
        price_id=f"price_{plan}", lookup_key=f"{plan}_monthly", unit_amount=299_900, currency="inr"
    )
    obj = se.subscription(
        customer="cus_a",
        price=price,
        created=T0,
        period_start=created,
        period_end=created + 30 * DAY,
        status=status,
        sub_id=sub_id,
        metadata={"tenant_id": "tnt_a", "plan_id": plan},
        **extra,
    )
    return se.build_event(f"customer.subscription.{kind}", obj, created=created)


def invoice_event(kind: str, created: int, amount: int, status: str = "paid") -> dict[str, Any]:
    line = se.invoice_line(
        amount=amount, currency="inr", description="Pro", period_start=created, period_end=created + 30 * DAY
    )
    inv = se.invoice(
        customer="cus_a",
        subscription_id="sub_1",
        lines=[line],
        currency="inr",
        created=created,
        period_start=created,
        period_end=created + 30 * DAY,
        status=status,
    )
    return se.build_event(kind, inv, created=created)


def checkout_event(created: int) -> dict[str, Any]:
    session = se.checkout_session(
        customer="cus_a",
        client_reference_id="tnt_a",
        created=created,
        metadata={"tenant_id": "tnt_a", "plan_id": "pro"},
        subscription_id="sub_1",
    )
    return se.build_event("checkout.session.completed", session, created=created)


@pytest.fixture
def world() -> World:
    return World()


def test_checkout_then_a_trialing_subscription_puts_every_user_of_the_tenant_on_the_plan(
    world: World,
) -> None:
    world.deliver(checkout_event(T0))
    world.deliver(sub_event("created", "trialing", T0 + 1, trial_start=T0, trial_end=T0 + 14 * DAY))
    account = world.store.account("tnt_a")
    assert account is not None
    assert (account.customer_id, account.status, account.plan_id) == ("cus_a", "trialing", "pro")
    assert account.trial_used and account.trial_end_s == T0 + 14 * DAY
    assert world.plan_of_users() == {"pro"}


def test_a_duplicate_event_changes_nothing(world: World) -> None:
    event = sub_event("created", "active", T0)
    first = world.deliver(event)
    commits = world.store.commits
    again = world.deliver(event)
    assert (first.duplicate, first.applied, again.duplicate) == (False, True, True)
    assert world.store.commits == commits
    assert len(world.store.history_) == 1


def test_deleted_arriving_before_created_ends_canceled_on_the_free_plan(world: World) -> None:
    created = sub_event("created", "active", T0)
    deleted = sub_event("deleted", "canceled", T0 + 60, canceled_at=T0 + 60, ended_at=T0 + 60)
    world.deliver(deleted)
    late = world.deliver(created)
    account = world.store.account("tnt_a")
    assert account is not None and account.status == "canceled"
    assert late.applied is False and late.duplicate is False  # recorded, not applied
    assert world.plan_of_users() == {"starter"}


def test_an_older_update_arriving_after_a_newer_one_is_ignored(world: World) -> None:
    world.deliver(sub_event("updated", "active", T0 + 100, plan="elite"))
    world.deliver(sub_event("updated", "active", T0 + 50, plan="pro"))
    account = world.store.account("tnt_a")
    assert account is not None and account.plan_id == "elite"
    assert world.plan_of_users() == {"elite"}


def test_same_second_tie_goes_to_the_later_life_stage(world: World) -> None:
    world.deliver(sub_event("deleted", "canceled", T0, ended_at=T0))
    world.deliver(sub_event("updated", "active", T0))
    account = world.store.account("tnt_a")
    assert account is not None and account.status == "canceled"


def test_payment_failed_starts_dunning_with_an_email_notice_and_keeps_the_plan(world: World) -> None:
    # Given an active subscription whose renewal invoice fails at T0 + 1 day
    world.deliver(sub_event("created", "active", T0))
    failed = invoice_event("invoice.payment_failed", T0 + DAY, 299_900, status="open")
    # When the failure is heard two days late (Stripe retried the delivery)
    world.clock.now = (T0 + 3 * DAY) * 1000
    world.deliver(failed, sign_at=T0 + 3 * DAY)
    # Then dunning runs, and the grace period counts from the invoice's own time, not from when we heard
    account = world.store.account("tnt_a")
    assert account is not None and account.in_dunning
    assert account.grace_until_ms == (T0 + DAY) * 1000 + 7 * DAY * 1000
    assert world.plan_of_users() == {"pro"}
    notices = [n for n in world.store.outbox.values() if n.kind == "payment_failed"]
    assert len(notices) == 1 and "₹2,999.00" in notices[0].body


def test_dunning_downgrades_after_the_grace_period_and_cancels_stripe_once(world: World) -> None:
    world.deliver(sub_event("created", "active", T0))
    world.deliver(invoice_event("invoice.payment_failed", T0 + DAY, 299_900, status="open"))
    world.gateway.stripe_has("sub_1", "past_due", latest_invoice_status="open")  # still unpaid at Stripe
    world.clock.now += 6 * DAY * 1000
    assert world.dunning.run().downgraded == []  # still in grace
    world.clock.now += 2 * DAY * 1000
    report = world.dunning.run()
    again = world.dunning.run()
    assert report.downgraded == ["tnt_a"] and again.downgraded == []
    assert world.plan_of_users() == {"starter"}
    assert world.gateway.named("cancel_now") == [{"subscription": "sub_1"}]
    assert any(n.kind == "downgraded" for n in world.store.outbox.values())


def test_the_cancellation_webhook_racing_the_sweep_still_ends_downgraded_with_one_notice(
    world: World,
) -> None:
    world.deliver(sub_event("created", "active", T0))
    world.deliver(invoice_event("invoice.payment_failed", T0 + DAY, 299_900, status="open"))
    world.gateway.stripe_has("sub_1", "past_due", latest_invoice_status="open")
    world.clock.now += 8 * DAY * 1000
    # Stripe answers the cancel and, before the sweep writes, its subscription.deleted webhook lands
    world.gateway.on_cancel = lambda _: world.deliver(
        sub_event("deleted", "canceled", T0 + 8 * DAY, ended_at=T0 + 8 * DAY), sign_at=world.clock.now // 1000
    )
    assert world.dunning.run().downgraded == ["tnt_a"]
    account = world.store.account("tnt_a")
    assert account is not None and account.status == "canceled" and account.downgraded_ms is not None
    assert world.plan_of_users() == {"starter"}
    kinds = sorted(n.kind for n in world.store.outbox.values())
    assert kinds == ["downgraded", "payment_failed"]  # no second "subscription ended" e-mail


def test_paying_during_grace_ends_dunning(world: World) -> None:
    world.deliver(sub_event("created", "active", T0))
    world.deliver(invoice_event("invoice.payment_failed", T0 + DAY, 299_900, status="open"))
    world.deliver(invoice_event("invoice.paid", T0 + 2 * DAY, 299_900))
    account = world.store.account("tnt_a")
    assert account is not None and not account.in_dunning
    world.clock.now += 30 * DAY * 1000
    assert world.dunning.run().downgraded == []
    assert world.plan_of_users() == {"pro"}
    kinds = sorted(n.kind for n in world.store.outbox.values())
    assert kinds == ["payment_failed", "payment_received"]


def test_trial_will_end_sends_a_notice(world: World) -> None:
    world.deliver(
        sub_event("trial_will_end", "trialing", T0 + 11 * DAY, trial_start=T0, trial_end=T0 + 14 * DAY)
    )
    notices = list(world.store.outbox.values())
    assert [n.kind for n in notices] == ["trial_will_end"]


def test_unknown_event_types_are_acknowledged_and_ignored(world: World) -> None:
    event = se.build_event("customer.tax_id.created", {"id": "txi_1"}, created=T0)
    result = world.deliver(event)
    assert (result.handled, result.duplicate) == (False, False)
    assert world.store.handled[event["id"]] is False
    assert world.store.accounts_ == {}


def test_a_subscription_nobody_owns_is_recorded_but_changes_no_account(world: World) -> None:
    event = sub_event("created", "active", T0)
    event["data"]["object"]["metadata"] = {}
    result = world.deliver(event)
    assert result.applied is False and world.store.accounts_ == {}
    assert world.store.handled[event["id"]] is False


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_and_future_signatures_are_refused_before_anything_is_read(world: World, offset: int) -> None:
    with pytest.raises(Invalid):
        world.deliver(sub_event("created", "active", T0), sign_at=T0 + offset)
    assert world.store.events == {}


def test_invoice_lines_are_recorded_by_revenue_stream(world: World) -> None:
    world.deliver(sub_event("created", "active", T0))
    event = invoice_event("invoice.paid", T0 + DAY, 299_900)
    event["data"]["object"]["lines"]["data"].append(
        se.invoice_line(
            amount=5_000,
            currency="inr",
            description="trades",
            period_start=T0,
            period_end=T0 + DAY,
            metadata={"stream": "trade_fee"},
        )
    )
    world.deliver(event)
    [invoice] = world.store.invoices("tnt_a")
    assert {line.stream: line.amount_minor for line in invoice.lines} == {
        "subscription": 299_900,
        "trade_fee": 5_000,
    }


def test_notices_carry_a_fixed_time_so_a_redelivered_one_finds_its_inbox_item(world: World) -> None:
    world.deliver(sub_event("created", "active", T0))
    world.deliver(invoice_event("invoice.payment_failed", T0 + DAY, 299_900, status="open"))
    [notice] = world.store.outbox.values()
    assert notice.created_ms == (T0 + DAY) * 1000


def test_a_redelivered_notice_is_emailed_once() -> None:
    from mantra.billing.notices import BillingNotices
    from mantra.billing.records import Notice

    class Inbox:
        def __init__(self) -> None:
            self.items: dict[tuple[str, int], dict[str, str]] = {}

        def put_if_absent(self, n, ttl_days: int = 90) -> bool:  # type: ignore[no-untyped-def]
            key = (n.notification_id, n.created_ms)
            fresh = key not in self.items
            self.items.setdefault(key, {})
            return fresh

        def deliveries(self, n) -> dict[str, str]:  # type: ignore[no-untyped-def]
            return self.items.get((n.notification_id, n.created_ms), {})

        def record_delivery(self, n, channel: str, outcome: str) -> None:  # type: ignore[no-untyped-def]
            self.items[(n.notification_id, n.created_ms)][channel] = outcome

    class Mail:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(
            self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
        ) -> None:
            self.sent.append(to)

    inbox, mail, clock = Inbox(), Mail(), ManualClock(T0 * 1000)
    notices = BillingNotices(inbox, MemoryBillingStore([user()]), mail, clock)  # type: ignore[arg-type]
    notice = Notice(
        notice_id="evt_1:payment_failed",
        tenant_id="tnt_a",
        kind="payment_failed",
        subject="s",
        body="b",
        created_ms=T0 * 1000,
    )
    notices.deliver(notice)
    clock.now += 60_000  # redelivered a minute later
    assert notices.deliver(notice).already_sent == ["usr_a"]
    assert mail.sent == ["usr_a@example.in"] and len(inbox.items) == 1


# invoices in any order: the invoice's own state and time decide, and the sweep re-reads Stripe first
def renewal(kind: str, created: int, invoice_id: str = "in_renewal", attempts: int = 1) -> dict[str, Any]:
    """An event for one renewal invoice (same id across its life), created at T0 + 30 days."""
    event = invoice_event(kind, created, 299_900, status="paid" if kind == "invoice.paid" else "open")
    inv = event["data"]["object"]
    inv.update(id=invoice_id, created=T0 + 30 * DAY, attempt_count=attempts)
    inv["status_transitions"]["finalized_at"] = T0 + 30 * DAY
    return event


def test_a_late_payment_failed_after_its_invoice_was_paid_is_acknowledged_and_changes_nothing(
    world: World,
) -> None:
    # Given a paying customer whose renewal failed once and was then paid; the failure's delivery was delayed
    world.deliver(sub_event("created", "active", T0))
    failed = renewal("invoice.payment_failed", T0 + 30 * DAY + 60)
    world.deliver(renewal("invoice.paid", T0 + 30 * DAY + 3_600))
    before = world.store.account("tnt_a")
    # When the failure finally arrives, after the paid
    world.clock.now = (T0 + 31 * DAY) * 1000
    result = world.deliver(failed)
    # Then it is acknowledged and recorded, but nothing changes: no dunning, no e-mail, the invoice stays paid
    assert (result.duplicate, result.handled, result.applied) == (False, True, False)
    assert world.store.event_seen(failed["id"])
    assert world.store.account("tnt_a") == before
    assert before is not None and not before.in_dunning
    assert [i.status for i in world.store.invoices("tnt_a")] == ["paid"]
    assert not any(n.kind == "payment_failed" for n in world.store.outbox.values())
    # And the dunning sweep, however much later, cancels nothing
    world.gateway.stripe_has("sub_1", "active", latest_invoice_status="paid")
    world.clock.now += 30 * DAY * 1000
    assert world.dunning.run().downgraded == []
    assert world.gateway.named("cancel_now") == [] and world.plan_of_users() == {"pro"}


def test_a_failure_of_an_older_invoice_after_a_newer_one_was_paid_starts_no_dunning(world: World) -> None:
    # Given the November invoice is paid
    world.deliver(sub_event("created", "active", T0))
    november = renewal("invoice.paid", T0 + 60 * DAY, invoice_id="in_november")
    november["data"]["object"]["created"] = T0 + 60 * DAY
    world.deliver(november)
    # When a failure of the (older) October invoice arrives late
    result = world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY, invoice_id="in_october"))
    # Then the account keeps following November: no dunning, and the October record says what October did
    account = world.store.account("tnt_a")
    assert result.applied is False and account is not None and not account.in_dunning
    assert account.latest_invoice is not None and account.latest_invoice.invoice_id == "in_november"
    assert {i.invoice_id: i.status for i in world.store.invoices("tnt_a")} == {
        "in_november": "paid",
        "in_october": "payment_failed",
    }


def test_retries_of_one_invoice_arriving_in_reverse_keep_the_latest_attempt(world: World) -> None:
    # Given the renewal failed twice; the second failure arrives first
    world.deliver(sub_event("created", "active", T0))
    world.deliver(renewal("invoice.payment_failed", T0 + 33 * DAY, attempts=2))
    first = world.store.account("tnt_a")
    # When the first failure arrives
    result = world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY, attempts=1))
    # Then it is stale: one dunning, one e-mail, the grace period from the invoice's due time
    assert result.applied is False and world.store.account("tnt_a") == first
    assert first is not None and first.in_dunning
    assert first.grace_until_ms == (T0 + 30 * DAY) * 1000 + 7 * DAY * 1000
    assert [n.kind for n in world.store.outbox.values()] == ["payment_failed"]


def test_a_failure_heard_after_the_subscription_was_active_again_starts_no_dunning(world: World) -> None:
    # Given the subscription's state after the customer paid (active again) arrived first
    world.deliver(sub_event("created", "active", T0))
    world.deliver(sub_event("updated", "active", T0 + 31 * DAY))
    # When the earlier failure of the renewal arrives
    world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY + 60))
    # Then no dunning starts and nobody is e-mailed
    account = world.store.account("tnt_a")
    assert account is not None and not account.in_dunning
    assert world.store.outbox == {}


def test_a_payment_failed_before_any_subscription_event_still_starts_dunning(world: World) -> None:
    # Given the tenant checked out (the customer is linked) and the renewal failed
    world.store.save_customer("tnt_a", "cus_a", "INR")
    # When the failure arrives before any subscription event, then the past_due subscription
    world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY + 60))
    world.deliver(sub_event("updated", "past_due", T0 + 30 * DAY + 60))
    # Then the account is in dunning for that subscription, from the invoice's due time
    account = world.store.account("tnt_a")
    assert account is not None and account.in_dunning and account.status == "past_due"
    assert account.past_due_since_ms == (T0 + 30 * DAY) * 1000


def test_the_sweep_cancels_nobody_whom_stripe_says_has_paid(world: World) -> None:
    # Given an account in dunning here, but Stripe already has the invoice paid (its webhook is late)
    world.deliver(sub_event("created", "active", T0))
    world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY + 60))
    world.gateway.stripe_has("sub_1", "active", latest_invoice_status="paid")
    # When the grace period has run out and the sweep runs
    world.clock.now = (T0 + 40 * DAY) * 1000
    report = world.dunning.run()
    # Then it re-read Stripe, cancelled nothing and downgraded nobody
    assert (report.downgraded, report.paid_at_stripe) == ([], ["tnt_a"])
    assert world.gateway.named("standing") == [{"subscription": "sub_1"}]
    assert world.gateway.named("cancel_now") == [] and world.plan_of_users() == {"pro"}
    # And when the late invoice.paid lands, the dunning ends with a "payment received" note
    world.deliver(renewal("invoice.paid", T0 + 35 * DAY), sign_at=world.clock.now // 1000)
    account = world.store.account("tnt_a")
    assert account is not None and not account.in_dunning
    assert sorted(n.kind for n in world.store.outbox.values()) == ["payment_failed", "payment_received"]


def test_the_sweep_downgrades_without_cancelling_twice_when_stripe_already_cancelled(world: World) -> None:
    # Given an unpaid account whose subscription Stripe has already cancelled (a crash after the cancel)
    world.deliver(sub_event("created", "active", T0))
    world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY + 60))
    world.gateway.stripe_has("sub_1", "canceled", latest_invoice_status="open")
    # When the sweep runs after the grace period
    world.clock.now = (T0 + 40 * DAY) * 1000
    # Then the tenant is downgraded and Stripe is not asked to cancel again
    assert world.dunning.run().downgraded == ["tnt_a"]
    assert world.gateway.named("cancel_now") == [] and world.plan_of_users() == {"starter"}


def test_subscription_events_arriving_after_the_sweep_cancelled_it_do_not_undo_the_downgrade(
    world: World,
) -> None:
    # Given only a failed renewal was heard (its subscription's events are late) and Stripe has it unpaid
    world.store.save_customer("tnt_a", "cus_a", "INR")
    world.deliver(renewal("invoice.payment_failed", T0 + 30 * DAY + 60))
    world.gateway.stripe_has("sub_1", "past_due", latest_invoice_status="open")
    world.clock.now = (T0 + 40 * DAY) * 1000
    # When the sweep cancels it, and then the subscription's older events arrive, then its deletion
    assert world.dunning.run().downgraded == ["tnt_a"]
    world.deliver(sub_event("created", "active", T0))
    world.deliver(sub_event("updated", "past_due", T0 + 30 * DAY + 60))
    world.deliver(sub_event("deleted", "canceled", T0 + 40 * DAY, ended_at=T0 + 40 * DAY))
    # Then the tenant stays downgraded on the free plan, cancelled once, told once
    account = world.store.account("tnt_a")
    assert account is not None and account.downgraded_ms is not None and not account.in_dunning
    assert world.plan_of_users() == {"starter"} and len(world.gateway.named("cancel_now")) == 1
    assert [n.kind for n in world.store.outbox.values()].count("downgraded") == 1
