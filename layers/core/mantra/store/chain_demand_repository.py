"""On-demand option chains (``chain_demand``): the API records the request, the feed reads what is wanted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from mantra.store.chain_demand_models import ChainDemandItem

KEEP = timedelta(days=1)  # streamed for a day after the last request
QUIET_MS = 600_000  # a request repeated within ten minutes writes nothing


class DynamoChainDemand:
    def request(self, underlying: str, now_ms: int) -> bool:
        """Record that ``underlying``'s chain was asked for; False when it already was, recently."""
        item = ChainDemandItem(
            underlying=underlying,
            requested_ms=now_ms,
            expires_at=datetime.fromtimestamp(now_ms / 1000, UTC) + KEEP,
        )
        try:
            item.save(
                condition=ChainDemandItem.requested_ms.does_not_exist()
                | (ChainDemandItem.requested_ms < now_ms - QUIET_MS)
            )
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def wanted(self, now_ms: int) -> set[str]:
        """Underlyings asked for within the last day (expired items may linger until the TTL sweep)."""
        since = now_ms - int(KEEP.total_seconds() * 1000)
        return {i.underlying for i in ChainDemandItem.scan() if int(i.requested_ms) >= since}
