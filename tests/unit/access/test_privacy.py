"""Account deletion and export rules: the password is asked for, a live subscription is cancelled first, and
what the law makes us keep is said."""

from __future__ import annotations

import pytest
import timebase
from account_fakes import accounts_service
from mantra.auth.privacy import Privacy
from mantra.billing.account import BillingAccount
from mantra.clock import ManualClock
from mantra.domain import User
from mantra.errors import Conflict, Unauthorized

PASSWORD = "Nifty-50-at-Dawn"


class Data:
    def __init__(self) -> None:
        self.erased: list[str] = []

    def export(self, user: User) -> dict:
        return {"alerts": [{"alert_id": "a1", "user_id": user.user_id}]}

    def erase(self, user: User) -> dict[str, int]:
        self.erased.append(user.user_id)
        return {"alerts": 1, "user": 1}


class Billing:
    def __init__(self, account: BillingAccount | None) -> None:
        self._account = account

    def account(self, tenant_id: str) -> BillingAccount | None:
        return self._account

    def invoices(self, tenant_id: str | None = None) -> list:
        return []


def _world(account: BillingAccount | None):
    clock = ManualClock(timebase.SESSION_10AM)
    accounts, _, mail, _ = accounts_service(clock)
    accounts.sign_up("Asha", "asha@example.in", PASSWORD)
    accounts.confirm("asha@example.in", mail.code_for("asha@example.in"))
    user = accounts.sign_in("asha@example.in", PASSWORD).user
    data = Data()
    return Privacy(data, accounts, Billing(account), clock), data, user


def test_deletion_needs_the_password_and_says_what_is_kept() -> None:
    privacy, data, user = _world(None)
    with pytest.raises(Unauthorized, match="password"):
        privacy.delete(user, "Wrong-password-1")
    assert data.erased == []
    done = privacy.delete(user, PASSWORD)
    assert data.erased == [user.user_id] and done.deleted == {"alerts": 1, "user": 1}
    assert "invoices" in done.kept[0] and "CGST" in done.kept[0]


@pytest.mark.parametrize("status", ["active", "trialing", "past_due"])
def test_a_live_subscription_is_cancelled_before_the_account_can_go(status: str) -> None:
    privacy, data, user = _world(BillingAccount(tenant_id="t", status=status, plan_id="pro"))
    with pytest.raises(Conflict, match="POST /api/billing/cancel"):
        privacy.delete(user, PASSWORD)
    assert data.erased == []


def test_a_subscription_ending_at_period_end_does_not_block_deletion() -> None:
    account = BillingAccount(tenant_id="t", status="active", plan_id="pro", cancel_at_period_end=True)
    privacy, data, user = _world(account)
    privacy.delete(user, PASSWORD)
    assert data.erased == [user.user_id]


def test_the_export_has_the_profile_the_data_and_billing() -> None:
    privacy, _, user = _world(BillingAccount(tenant_id="t", status="active", plan_id="pro"))
    out = privacy.export(user)
    assert out["profile"]["email"] == "asha@example.in" and out["profile"]["mfa_enabled"] is False
    assert out["alerts"][0]["alert_id"] == "a1"
    assert out["billing"]["account"]["plan_id"] == "pro" and out["billing"]["invoices"] == []
