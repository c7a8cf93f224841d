"""The watchlist domain object (the API maps it to its schema, the store to its item)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Watchlist(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    watchlist_id: str
    user_id: str
    name: str
    symbols: tuple[
        str, ...
    ]  # instrument keys as the master spells them: NSE:RELIANCE, BSE:RELIANCE, NSE:NIFTY 50
    created_ms: int
    updated_ms: int
