"""Watchlists: a user's named lists of instruments (every plan has some; how many and how long is the plan's).

Symbols are checked against the instrument master and answered as its exchange-qualified keys (``NSE:RELIANCE``,
``BSE:RELIANCE``); an unknown one is a 422 naming it and its position, a list or symbol too many a 403 naming
the plan's limit, another tenant's list a 404. What is on any watchlist is streamed by the live feed.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from mantra.clock import utc_from_ms
from mantra.watchlists.models import Watchlist
from pydantic import BaseModel, ConfigDict, Field

from frontend_api.deps import CurrentUser, Services

router = APIRouter(tags=["watchlists"])

SYMBOLS = "instruments as the master spells them: RELIANCE (NSE first), BSE:RELIANCE, NIFTY 50, NFO:NIFTY25FEB23000CE"


class WatchlistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80, examples=["Banks"])
    symbols: list[str] = Field(
        default_factory=list,
        max_length=500,
        description=SYMBOLS,
        examples=[["RELIANCE", "BSE:SBIN", "NIFTY 50"]],
    )


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80, examples=["Private banks"])


class SymbolsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbols: list[str] = Field(
        min_length=1, max_length=500, description=SYMBOLS, examples=[["HDFCBANK", "BSE:ICICIBANK"]]
    )


class WatchlistOut(BaseModel):
    watchlist_id: str = Field(examples=["wl_5f2c1e7a9b3d4c6e"])
    name: str = Field(examples=["Banks"])
    symbols: list[str] = Field(examples=[["NSE:HDFCBANK", "BSE:ICICIBANK"]])
    created: datetime
    updated: datetime

    @classmethod
    def of(cls, w: Watchlist) -> WatchlistOut:
        return cls(
            watchlist_id=w.watchlist_id,
            name=w.name,
            symbols=list(w.symbols),
            created=utc_from_ms(w.created_ms),
            updated=utc_from_ms(w.updated_ms),
        )


@router.post("/api/watchlists", response_model=WatchlistOut, status_code=201, summary="Create a watchlist")
def create_watchlist(body: WatchlistIn, user: CurrentUser, services: Services) -> WatchlistOut:
    w = services.watchlists.create(user.tenant_id, user.user_id, user.plan_id, body.name, body.symbols)
    return WatchlistOut.of(w)


@router.get("/api/watchlists", response_model=list[WatchlistOut], summary="Your watchlists")
def list_watchlists(user: CurrentUser, services: Services) -> list[WatchlistOut]:
    return [WatchlistOut.of(w) for w in services.watchlists.list(user.tenant_id)]


@router.get("/api/watchlists/{watchlist_id}", response_model=WatchlistOut, summary="One of your watchlists")
def get_watchlist(watchlist_id: str, user: CurrentUser, services: Services) -> WatchlistOut:
    return WatchlistOut.of(services.watchlists.get(user.tenant_id, watchlist_id))


@router.patch("/api/watchlists/{watchlist_id}", response_model=WatchlistOut, summary="Rename a watchlist")
def rename_watchlist(
    watchlist_id: str, body: RenameIn, user: CurrentUser, services: Services
) -> WatchlistOut:
    return WatchlistOut.of(services.watchlists.rename(user.tenant_id, watchlist_id, body.name))


@router.post(
    "/api/watchlists/{watchlist_id}/symbols",
    response_model=WatchlistOut,
    summary="Add symbols to a watchlist",
)
def add_symbols(watchlist_id: str, body: SymbolsIn, user: CurrentUser, services: Services) -> WatchlistOut:
    w = services.watchlists.add(user.tenant_id, user.plan_id, watchlist_id, body.symbols)
    return WatchlistOut.of(w)


@router.delete(
    "/api/watchlists/{watchlist_id}/symbols/{symbol}",
    response_model=WatchlistOut,
    summary="Remove a symbol from a watchlist",
)
def remove_symbol(watchlist_id: str, symbol: str, user: CurrentUser, services: Services) -> WatchlistOut:
    return WatchlistOut.of(services.watchlists.remove(user.tenant_id, watchlist_id, symbol))


@router.delete("/api/watchlists/{watchlist_id}", status_code=204, summary="Delete a watchlist")
def delete_watchlist(watchlist_id: str, user: CurrentUser, services: Services) -> Response:
    services.watchlists.delete(user.tenant_id, watchlist_id)
    return Response(status_code=204)
