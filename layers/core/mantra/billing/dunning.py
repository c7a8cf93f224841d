"""Dunning: past_due -> grace period -> the free plan. Nothing is deleted; paying again restores the plan.

The webhook starts dunning (``invoice.payment_failed``) and e-mails the tenant; this daily sweep ends it for
accounts whose grace period has run out: Stripe's subscription is cancelled (idempotently, so a re-run repeats
nothing), the users move to the free plan, and they get an e-mail saying so.

Webhooks arrive late and out of order, so the account may still say "unpaid" when Stripe already knows better.
Before anything destructive the sweep therefore re-reads the subscription and its latest invoice from Stripe and
stops if they are paid: nobody who paid is ever cancelled. (The late webhook then ends the dunning.)
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from mantra.billing.account import BillingAccount, downgrade
from mantra.billing.gateway import StripeGateway, SubscriptionStanding
from mantra.billing.plans import free_plan_id
from mantra.billing.ports import BillingStore, PlanSource
from mantra.billing.records import BillingChange, Notice
from mantra.billing.rules import users_to_move
from mantra.clock import Clock
from mantra.settings import Settings

log = logging.getLogger(__name__)


class DunningReport(BaseModel):
    downgraded: list[str]
    failed: list[str]
    paid_at_stripe: list[str] = []  # due here, paid at Stripe: left alone (the webhook saying so is late)


class DunningService:
    def __init__(
        self, store: BillingStore, plans: PlanSource, gateway: StripeGateway, settings: Settings, clock: Clock
    ) -> None:
        self._store, self._plans, self._gateway = store, plans, gateway
        self._settings, self._clock = settings, clock

    def run(self) -> DunningReport:
        now = self._clock.now_ms()
        report = DunningReport(downgraded=[], failed=[])
        for account in self._store.dunning_due(now):
            try:
                standing = self._standing(account)
                if standing is not None and standing.paid:
                    report.paid_at_stripe.append(account.tenant_id)
                elif self._downgrade(account, now, standing):
                    report.downgraded.append(account.tenant_id)
            except Exception:  # one account's failure never stops the sweep; the next run retries it
                log.exception("dunning downgrade failed for %s", account.tenant_id)
                report.failed.append(account.tenant_id)
        return report

    def _standing(self, account: BillingAccount) -> SubscriptionStanding | None:
        """The subscription and its latest invoice as Stripe has them now (None: no subscription to read)."""
        subscription_id = _subscription_of(account)
        if subscription_id is None:
            return None
        standing = self._gateway.subscription_standing(subscription_id)
        if standing.paid:
            log.warning(
                "dunning: %s is due here but %s is %s at Stripe (latest invoice %s %s): not cancelled",
                account.tenant_id,
                subscription_id,
                standing.status,
                standing.latest_invoice_id,
                standing.latest_invoice_status,
            )
        return standing

    def _downgrade(self, account: BillingAccount, now_ms: int, standing: SubscriptionStanding | None) -> bool:
        if standing is not None and standing.status != "canceled":
            # first, so a re-run after a crash cancels nothing twice (same key) and still downgrades
            key = f"tm-dunning-cancel-{standing.subscription_id}"
            self._gateway.cancel_now(standing.subscription_id, idempotency_key=key)
        since = account.past_due_since_ms or now_ms
        for _ in range(5):  # the cancellation's own webhook may move the account meanwhile: re-read, re-apply
            if self._store.commit(self._change(account, since, now_ms)):
                return True
            fresh = self._store.account(account.tenant_id)
            if fresh is None or not fresh.in_dunning or fresh.downgraded_ms is not None:
                return False  # paid meanwhile, or another sweep got there first
            account = fresh
        raise RuntimeError(f"{account.tenant_id}: the account kept changing; the next sweep retries")

    def _change(self, account: BillingAccount, since: int, now_ms: int) -> BillingChange:
        return BillingChange(
            received_ms=now_ms,
            account=downgrade(account, now_ms).model_copy(update={"version": account.version + 1}),
            expected_version=account.version,
            notices=[
                Notice(
                    # one per downgrade: the account version guards the commit (a dunning for the same
                    # invoice can end and start again when its events arrive out of order)
                    notice_id=f"dunning:{account.tenant_id}:{since}:v{account.version}:downgraded",
                    tenant_id=account.tenant_id,
                    kind="downgraded",
                    created_ms=now_ms,
                    subject="Your account moved to the free plan",
                    body=(
                        "We could not collect your payment during the grace period, so your subscription was "
                        "cancelled and your account is on the free plan. Nothing was deleted: subscribe again "
                        "any time to get your plan back."
                    ),
                )
            ],
            plan_for_users=users_to_move(self._store, account.tenant_id, self._free_plan(account)),
        )

    def _free_plan(self, account: BillingAccount) -> str:
        return free_plan_id(self._plans.all(), account.catalog, self._settings.billing_free_plan)


def _subscription_of(account: BillingAccount) -> str | None:
    if account.subscription_id:
        return account.subscription_id
    return account.latest_invoice.subscription_id if account.latest_invoice else None
