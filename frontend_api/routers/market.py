from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from mantra.errors import Invalid, NotFound
from mantra.market.timeframes import TIMEFRAMES_MS

from frontend_api.deps import CurrentUser, Services
from frontend_api.schemas import CandleOut, CandlesOut, InstrumentOut, QuoteOut

router = APIRouter(tags=["market data"])


@router.get("/api/instruments", response_model=list[InstrumentOut], summary="Search the instrument master")
def instruments(
    user: CurrentUser,
    services: Services,
    q: Annotated[str, Query(max_length=64, description="part of a symbol or name", examples=["REL"])] = "",
    exchange: Annotated[str | None, Query(pattern="^(NSE|BSE|NFO|BFO)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[InstrumentOut]:
    return [InstrumentOut.of(i) for i in services.instruments.search(q, exchange, limit)]


@router.get("/api/quotes/{symbol}", response_model=QuoteOut, summary="Latest quote of an instrument")
def quote(symbol: str, user: CurrentUser, services: Services) -> QuoteOut:
    q = services.quotes.get(symbol.upper())
    if q is None:
        raise NotFound(f"no quote for {symbol.upper()!r} yet; is it in GET /api/instruments?")
    return QuoteOut.of(q)


@router.get("/api/candles/{symbol}", response_model=CandlesOut, summary="Candles of an instrument")
def candles(
    symbol: str,
    user: CurrentUser,
    services: Services,
    tf: Annotated[str, Query(description="1m, 5m, 15m, 1h or 1d", examples=["1m"])] = "1m",
    start: Annotated[datetime | None, Query(alias="from", description="ISO time; default: 1 day ago")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO time; default: now")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> CandlesOut:
    if tf not in TIMEFRAMES_MS:
        raise Invalid(f"tf: unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES_MS)}")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from/to: give a time zone, e.g. 2026-11-23T09:15:00+05:30")
    if start > end:
        raise Invalid("from: must be before to")
    rows = services.candles.range(
        symbol.upper(), tf, int(start.timestamp() * 1000), int(end.timestamp() * 1000), limit
    )
    return CandlesOut(symbol=symbol.upper(), timeframe=tf, candles=[CandleOut.of(c) for c in rows])
