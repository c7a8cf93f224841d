"""A person's data: all of it as JSON (export), or gone (account deletion), with what the law makes us keep.

Deletion asks for the password, and refuses while a paid subscription is live (cancel first: a deleted account
must not keep being charged). It erases the user's rows in every table (profile, preferences, MFA secret,
alerts, notifications, scanners and their signals, watchlists, API keys, webhook endpoints, backtests, sessions,
codes). Kept: the tenant's billing account and invoices, which Indian tax law requires us to keep (GST records
for 72 months after the annual return's due date: CGST Act s. 36; books of account: Income-tax Act s. 44AA);
they carry the Stripe customer id, not the profile.
"""

from __future__ import annotations

from typing import Any, Protocol

from mantra.auth.accounts import AccountService
from mantra.billing.account import BillingAccount
from mantra.billing.records import InvoiceRecord
from mantra.clock import Clock, utc_from_ms
from mantra.domain import Frozen, User
from mantra.errors import Conflict

LIVE = {"active", "trialing", "past_due", "unpaid", "incomplete"}
KEPT = (
    "the tenant's billing account and invoices: Indian tax law requires them to be kept (GST records for 72 "
    "months after the annual return's due date, CGST Act s. 36; books of account, Income-tax Act s. 44AA)"
)


class UserData(Protocol):
    def export(self, user: User) -> dict[str, Any]: ...
    def erase(self, user: User) -> dict[str, int]: ...


class BillingRecords(Protocol):
    def account(self, tenant_id: str) -> BillingAccount | None: ...
    def invoices(self, tenant_id: str | None = None) -> list[InvoiceRecord]: ...


class Deleted(Frozen):
    deleted: dict[str, int]
    kept: list[str]


class Privacy:
    def __init__(
        self, data: UserData, accounts: AccountService, billing: BillingRecords, clock: Clock
    ) -> None:
        self._data, self._accounts, self._billing, self._clock = data, accounts, billing, clock

    def export(self, user: User) -> dict[str, Any]:
        created_ms = self._accounts.created_ms(user)
        account = self._billing.account(user.tenant_id)
        return {
            "exported_at": utc_from_ms(self._clock.now_ms()).isoformat(),
            "profile": {
                "user_id": user.user_id,
                "email": user.email,
                "name": user.name,
                "tenant_id": user.tenant_id,
                "roles": sorted(r.value for r in user.roles),
                "plan_id": user.plan_id,
                "mfa_enabled": user.mfa_enabled,
                "created_at": utc_from_ms(created_ms).isoformat() if created_ms is not None else None,
            },
            **self._data.export(user),
            "billing": {
                "account": account.model_dump(mode="json") if account else None,
                "invoices": [i.model_dump(mode="json") for i in self._billing.invoices(user.tenant_id)],
            },
        }

    def delete(self, user: User, password: str) -> Deleted:
        self._accounts.confirm_password(user, password)
        account = self._billing.account(user.tenant_id)
        if account and account.status in LIVE and not account.cancel_at_period_end:
            raise Conflict(
                f"your {account.plan_id} subscription is {account.status}: cancel it first with "
                "POST /api/billing/cancel, then delete the account"
            )
        return Deleted(deleted=self._data.erase(user), kept=[KEPT])
