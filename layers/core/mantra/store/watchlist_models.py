"""PynamoDB model of watchlists: tenant-scoped (the partition key is the tenant id), one item per list."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from mantra.store.models import BaseModel


class WatchlistItem(BaseModel):
    base_name = "watchlists"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "watchlists"

    tenant_id = UnicodeAttribute(hash_key=True)
    watchlist_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    symbols = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    created_ms = NumberAttribute()
    updated_ms = NumberAttribute()


WATCHLIST_MODELS: tuple[type[BaseModel], ...] = (WatchlistItem,)
