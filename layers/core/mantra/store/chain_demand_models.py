"""PynamoDB model of on-demand option chains: an underlying someone asked the chain of while it was not streamed.

One small item per underlying; the feed adds the underlyings asked for in the last day to what it subscribes,
and the item expires a day after the last request."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from mantra.store.models import BaseModel, TTLAttribute


class ChainDemandItem(BaseModel):
    base_name = "chain_demand"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "chain_demand"

    underlying = UnicodeAttribute(hash_key=True)
    requested_ms = NumberAttribute()
    expires_at = TTLAttribute()


CHAIN_DEMAND_MODELS: tuple[type[BaseModel], ...] = (ChainDemandItem,)
