"""Market data: the instrument master, latest quotes and candles.

Hot reads are served from small in-process caches (per API process, keyed per repository): quotes for
``QUOTE_TTL_S``, candle windows that end before the current bucket for ``CLOSED_CANDLES_TTL_S`` and windows that
include the forming candle for ``OPEN_CANDLES_TTL_S``; the instrument master is searched in memory from a
snapshot reloaded every ``MASTER_TTL_S``.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from mantra.domain import Candle, Instrument, Quote
from mantra.errors import Invalid, NotFound
from mantra.market.cache import TTLCache
from mantra.market.eod import candle_symbol
from mantra.market.instrument_master import InstrumentCatalog, InstrumentQuery
from mantra.market.timeframes import TIMEFRAMES_MS, bucket_start_ms
from pydantic import Field

from frontend_api.deps import CurrentUser, Services
from frontend_api.schemas import ActionOut, CandleOut, CandlesOut, InstrumentOut, QuoteOut

QUOTE_TTL_S = 0.25
OPEN_CANDLES_TTL_S = 1.0
CLOSED_CANDLES_TTL_S = 30.0
MASTER_TTL_S = 60.0

router = APIRouter(tags=["market data"])


class ContractOut(InstrumentOut):
    """An instrument; derivatives also say what they are on, when they expire and their strike."""

    underlying: str | None = Field(default=None, examples=["NIFTY"])
    expiry: str | None = Field(default=None, description="ISO date (IST)", examples=["2026-12-29"])
    strike: str | None = Field(default=None, description="rupees", examples=["24000.00"])

    @classmethod
    def of(cls, i: Instrument) -> ContractOut:
        base = InstrumentOut.of(i).model_dump()
        strike = None if i.strike_paise is None else f"{i.strike_paise // 100}.{i.strike_paise % 100:02d}"
        return cls(**base, underlying=i.underlying, expiry=i.expiry, strike=strike)


_catalogs: weakref.WeakKeyDictionary[Any, InstrumentCatalog] = weakref.WeakKeyDictionary()
_quote_caches: weakref.WeakKeyDictionary[Any, TTLCache[Quote]] = weakref.WeakKeyDictionary()
_candle_caches: weakref.WeakKeyDictionary[Any, TTLCache[list[Candle]]] = weakref.WeakKeyDictionary()


def _catalog(repo: Any) -> InstrumentCatalog | None:
    if not hasattr(repo, "all"):
        return None  # a store without a full read: search it directly
    if repo not in _catalogs:
        _catalogs[repo] = InstrumentCatalog(repo, ttl_s=MASTER_TTL_S)
    return _catalogs[repo]


def _cache(caches: weakref.WeakKeyDictionary[Any, Any], repo: Any, ttl_s: float) -> Any:
    if repo not in caches:
        caches[repo] = TTLCache(ttl_s)
    return caches[repo]


@router.get(
    "/api/instruments",
    response_model=list[ContractOut],
    summary="Search the instrument master",
    description="Equities, indices and NFO futures and options, from the broker's daily dump. Searched in "
    f"memory; the master is at most {MASTER_TTL_S:.0f} s behind the last daily refresh.",
)
def instruments(
    user: CurrentUser,
    services: Services,
    q: Annotated[str, Query(max_length=64, description="part of a symbol or name", examples=["REL"])] = "",
    exchange: Annotated[str | None, Query(pattern="^(NSE|BSE|NFO|BFO)$")] = None,
    type: Annotated[  # the public parameter name (shadows the builtin here only)
        str | None, Query(pattern="^(EQ|INDEX|FUT|CE|PE)$", description="instrument type")
    ] = None,
    underlying: Annotated[
        str | None, Query(max_length=32, description="derivatives of this underlying", examples=["NIFTY"])
    ] = None,
    expiry: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="ISO date", examples=["2026-12-29"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ContractOut]:
    catalog = _catalog(services.instruments)
    if catalog is None:
        found = services.instruments.search(q, exchange, limit)
    else:
        found = catalog.search(InstrumentQuery(q, exchange, type, underlying, expiry, limit))
    return [ContractOut.of(i) for i in found]


@router.get(
    "/api/quotes/{symbol}",
    response_model=QuoteOut,
    summary="Latest quote of an instrument",
    description=f"Served from a {QUOTE_TTL_S} s in-process cache: at most that much older than the store.",
)
def quote(symbol: str, user: CurrentUser, services: Services) -> QuoteOut:
    wanted = symbol.upper()
    cache: TTLCache[Quote] = _cache(_quote_caches, services.quotes, QUOTE_TTL_S)
    q = cache.get_or_load(wanted, lambda: services.quotes.get(wanted))
    if q is None:
        raise NotFound(f"no quote for {wanted!r} yet; is it in GET /api/instruments?")
    return QuoteOut.of(q)


@router.get(
    "/api/candles/{symbol}",
    response_model=CandlesOut,
    summary="Candles of an instrument",
    description=f"Windows of closed candles are cached {CLOSED_CANDLES_TTL_S:.0f} s; a window that includes "
    f"the forming candle {OPEN_CANDLES_TTL_S:.0f} s. A tick that arrives late is still merged into its closed "
    "candle, so a closed candle can change within the closed-window cache time.",
)
def candles(
    symbol: str,
    user: CurrentUser,
    services: Services,
    tf: Annotated[str, Query(description="1m, 5m, 15m, 1h or 1d", examples=["1m"])] = "1m",
    start: Annotated[datetime | None, Query(alias="from", description="ISO time; default: 1 day ago")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO time; default: now")] = None,
    limit: Annotated[
        int, Query(ge=1, le=5000, description="at most this many bars: the newest of the window")
    ] = 1000,
    series: Annotated[
        str,
        Query(
            description="the exchange's series of the symbol: EQ (the default, the bare symbol), BE, SM, ...",
            examples=["EQ"],
            pattern="^[A-Za-z0-9]{1,3}$",
        ),
    ] = "EQ",
    adjusted: Annotated[
        bool | None,
        Query(
            description="prices and volumes adjusted for splits, bonuses and rights with an ex-date up to `to`"
            " (default: true for 1d bars, false for intraday); false: as traded",
            examples=[True],
        ),
    ] = None,
) -> CandlesOut:
    if tf not in TIMEFRAMES_MS:
        raise Invalid(f"tf: unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES_MS)}")
    now = datetime.now(UTC)
    end = end or now
    start = start or end - timedelta(days=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from/to: give a time zone, e.g. 2026-11-23T09:15:00+05:30")
    if start > end:
        raise Invalid("from: must be before to")
    wanted = candle_symbol(symbol.upper(), series.upper())
    adjust = tf == "1d" if adjusted is None else adjusted
    repo = services.adjusted_candles if adjust else services.candles
    # whole seconds: requests within a second share an entry
    start_ms, end_ms = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000 + 999
    forming = bucket_start_ms(int(now.timestamp() * 1000), tf)
    ttl = CLOSED_CANDLES_TTL_S if end_ms < forming else OPEN_CANDLES_TTL_S
    cache: TTLCache[list[Candle]] = _cache(_candle_caches, repo, CLOSED_CANDLES_TTL_S)
    rows = cache.get_or_load(
        (wanted, tf, start_ms, end_ms, limit),
        # the newest ``limit`` bars of the window: a chart wants what happened last
        lambda: [c for c in repo.latest(wanted, tf, end_ms, limit) if c.start_ms >= start_ms],
        ttl_s=ttl,
    )
    actions = services.adjusted_candles.actions(wanted, end_ms) if adjust else []
    return CandlesOut(
        symbol=wanted,
        timeframe=tf,
        adjusted=adjust,
        actions=[ActionOut.of(f) for f in actions],
        candles=[CandleOut.of(c) for c in rows or []],
    )
