"""What the broker feed must subscribe to, read from the tables users write: active alerts, watchlists,
scheduled scanners and option chains asked for on demand. Alerts and scanners are read through sparse indexes; watchlists are small (a few per tenant)
and read symbols only."""

from __future__ import annotations

import logging

from mantra.clock import SystemClock
from mantra.errors import Invalid
from mantra.market.universes import universe
from mantra.scans.models import Every
from mantra.store.chain_demand_repository import DynamoChainDemand
from mantra.store.models import AlertItem
from mantra.store.scan_models import ScannerItem
from mantra.store.watchlist_repository import DynamoWatchlistRepository

log = logging.getLogger(__name__)


class DynamoFeedSubscriptionRepository:
    def watched_symbols(self) -> set[str]:
        """Symbols on a watchlist or with at least one active alert (a scan of the sparse ``active_by_symbol``
        index, keys only). Watchlists hold exchange-qualified keys (``BSE:RELIANCE``), alerts bare symbols."""
        out: set[str] = DynamoWatchlistRepository().all_symbols()
        # option chains someone asked for while they were not streamed (their underlying's chain follows)
        out |= DynamoChainDemand().wanted(SystemClock().now_ms())
        for item in AlertItem.active_by_symbol.scan(attributes_to_get=["watch_symbol"]):
            if item.watch_symbol:
                out.add(item.watch_symbol)
        return out

    def scanned_symbols(self) -> set[str]:
        """The universes of every scheduled scanner (``due_by_schedule``), expanded to symbols."""
        specs: set[str] = set()
        for every in Every:
            if every is Every.OFF:
                continue
            for item in ScannerItem.due_by_schedule.query(every.value, attributes_to_get=["universe"]):
                specs.add(item.universe)
        out: set[str] = set()
        for spec in specs:
            try:
                out.update(universe(spec).symbols)
            except Invalid:
                log.warning("scanner universe %r is not known to the feed; skipped", spec)
        return out
