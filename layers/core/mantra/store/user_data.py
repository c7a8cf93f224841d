"""Everything the tables hold about one user, read for an export or erased for an account deletion.

Tenant-scoped tables are read by the tenant and kept to the user's own rows (``user_id``): seeded users share a
tenant, and a colleague's alerts are not this user's data. Secrets and hashes never leave: API keys are listed
by prefix, webhook endpoints without their signing secrets.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel as Schema

from mantra.domain import User
from mantra.store import repositories
from mantra.store.access_models import ApiKeyItem
from mantra.store.access_repository import DynamoApiKeyRepository
from mantra.store.account_models import AccountCodeItem, AccountEmailItem, RefreshTokenItem
from mantra.store.backtest_models import BacktestJobItem
from mantra.store.models import NotificationItem, UserItem
from mantra.store.scan_models import ScanSignalItem
from mantra.store.scan_repositories import DynamoScannerRepository
from mantra.store.watchlist_repository import DynamoWatchlistRepository
from mantra.store.webhook_repository import DynamoWebhookEndpointRepository

PURPOSES = ("signup", "reset", "email")


def _public(obj: Schema, *drop: str) -> dict[str, Any]:
    return obj.model_dump(mode="json", exclude=set(drop))


class DynamoUserData:
    def export(self, user: User) -> dict[str, Any]:
        uid, tenant = user.user_id, user.tenant_id
        mine = lambda rows: [r for r in rows if r.user_id == uid]  # noqa: E731 - one filter, five tables
        notifications = repositories.DynamoNotificationRepository().list(tenant, uid, False, 10_000)
        return {
            "preferences": _public(repositories.DynamoUserRepository().preferences(uid), "push_endpoints"),
            "alerts": [_public(a) for a in mine(repositories.DynamoAlertRepository().list(tenant))],
            "notifications": [_public(n) for n in notifications],
            "scanners": [_public(s) for s in mine(DynamoScannerRepository().list(tenant))],
            "watchlists": [_public(w) for w in mine(DynamoWatchlistRepository().list(tenant))],
            "api_keys": [_public(k) for k in mine(DynamoApiKeyRepository().list(tenant))],
            "webhook_endpoints": [
                _public(e, "secrets") for e in mine(DynamoWebhookEndpointRepository().list(tenant))
            ],
        }

    def erase(self, user: User) -> dict[str, int]:
        """Delete the user's rows everywhere but billing; how many went from each table."""
        uid, tenant = user.user_id, user.tenant_id
        counts: dict[str, int] = {}

        def drop(name: str, items: Any) -> None:
            n = 0
            for item in items:
                item.delete()
                n += 1
            counts[name] = n

        mine = lambda model: (i for i in model.query(tenant) if i.user_id == uid)  # noqa: E731
        from mantra.store.models import AlertItem
        from mantra.store.scan_models import ScannerItem
        from mantra.store.watchlist_models import WatchlistItem
        from mantra.store.webhook_models import WebhookEndpointItem

        drop("alerts", mine(AlertItem))
        drop("notifications", NotificationItem.query(f"{tenant}#{uid}"))
        drop("scanners", mine(ScannerItem))
        drop("scan_signals", mine(ScanSignalItem))
        drop("watchlists", mine(WatchlistItem))
        drop("api_keys", mine(ApiKeyItem))
        drop("webhook_endpoints", mine(WebhookEndpointItem))
        drop("backtest_jobs", mine(BacktestJobItem))
        drop("sessions", RefreshTokenItem.by_user.query(uid))
        for purpose in PURPOSES:
            AccountCodeItem(subject=f"{purpose}#{uid}").delete()
        try:
            claim = AccountEmailItem.get(user.email, consistent_read=True)
            if claim.user_id == uid:
                claim.delete()
        except AccountEmailItem.DoesNotExist:
            pass
        UserItem(user_id=uid).delete()  # last: the profile, preferences and MFA secret
        counts["user"] = 1
        return counts
