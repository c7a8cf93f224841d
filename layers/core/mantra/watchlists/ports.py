"""What the watchlist service depends on. ``store.watchlist_repository`` implements it on DynamoDB."""

from __future__ import annotations

from typing import Protocol

from mantra.domain import Instrument
from mantra.watchlists.models import Watchlist


class WatchlistRepository(Protocol):
    def create(self, watchlist: Watchlist) -> None: ...
    def get(self, tenant_id: str, watchlist_id: str) -> Watchlist | None: ...
    def list(self, tenant_id: str) -> list[Watchlist]: ...
    def count(self, tenant_id: str) -> int: ...
    def replace(self, watchlist: Watchlist, expected_updated_ms: int) -> bool:
        """Write if the stored one is still at ``expected_updated_ms`` (False: changed meanwhile, or gone)."""
        ...

    def delete(self, tenant_id: str, watchlist_id: str) -> bool: ...
    def all_symbols(self) -> set[str]:
        """Every symbol on any tenant's watchlist: what the feed subscribes."""
        ...


class InstrumentLookup(Protocol):
    def get(self, symbol: str) -> Instrument | None: ...
