"""DynamoDB repository of watchlists (implements ``mantra.watchlists.ports.WatchlistRepository``)."""

from __future__ import annotations

import builtins

from pynamodb.exceptions import DeleteError, PutError

from mantra.store.watchlist_models import WatchlistItem
from mantra.watchlists.models import Watchlist


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoWatchlistRepository:
    def create(self, watchlist: Watchlist) -> None:
        self._to_item(watchlist).save(condition=WatchlistItem.watchlist_id.does_not_exist())

    def get(self, tenant_id: str, watchlist_id: str) -> Watchlist | None:
        try:
            return self._to_domain(WatchlistItem.get(tenant_id, watchlist_id, consistent_read=True))
        except WatchlistItem.DoesNotExist:
            return None

    def list(self, tenant_id: str) -> builtins.list[Watchlist]:
        return sorted(
            (self._to_domain(i) for i in WatchlistItem.query(tenant_id)), key=lambda w: w.created_ms
        )

    def count(self, tenant_id: str) -> int:
        return sum(1 for _ in WatchlistItem.query(tenant_id, attributes_to_get=["watchlist_id"]))

    def replace(self, watchlist: Watchlist, expected_updated_ms: int) -> bool:
        """Optimistic: written only while the stored item is still the version read."""
        try:
            self._to_item(watchlist).save(condition=WatchlistItem.updated_ms == expected_updated_ms)
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def delete(self, tenant_id: str, watchlist_id: str) -> bool:
        try:
            WatchlistItem(tenant_id, watchlist_id).delete(condition=WatchlistItem.watchlist_id.exists())
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def all_symbols(self) -> set[str]:
        """Every watched symbol, for the feed: a scan of the symbols only (a few items per tenant)."""
        out: set[str] = set()
        for item in WatchlistItem.scan(attributes_to_get=["symbols"]):
            out.update(item.symbols or ())
        return out

    @staticmethod
    def _to_item(w: Watchlist) -> WatchlistItem:
        return WatchlistItem(
            w.tenant_id,
            w.watchlist_id,
            user_id=w.user_id,
            name=w.name,
            symbols=list(w.symbols),
            created_ms=w.created_ms,
            updated_ms=w.updated_ms,
        )

    @staticmethod
    def _to_domain(i: WatchlistItem) -> Watchlist:
        return Watchlist(
            tenant_id=i.tenant_id,
            watchlist_id=i.watchlist_id,
            user_id=i.user_id,
            name=i.name,
            symbols=tuple(i.symbols or ()),
            created_ms=int(i.created_ms),
            updated_ms=int(i.updated_ms),
        )
