"""Option chains: per strike prices, OI, IV and Greeks, and the chain's summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from mantra.market.option_chain import (
    ChainSummary,
    ExpiryStats,
    FutureRow,
    OptionChain,
    OptionLeg,
    StrikeRow,
)
from mantra.money import to_rupees
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Entitled, Services

router = APIRouter(tags=["option chains"], dependencies=[Entitled("option_analytics")])


def _r(paise: int | None) -> Decimal | None:
    return None if paise is None else to_rupees(paise)


def _half(paise: float | None) -> Decimal | None:
    # a mid can fall on half a paisa: kept exact, not rounded to the paisa
    return None if paise is None else Decimal(str(paise)) / 100


def _pct(x: float | None) -> float | None:
    # a fraction as percent (or vol points), unrounded: rounding is for display
    return None if x is None else x * 100


class OptionLegOut(BaseModel):
    symbol: str = Field(examples=["NIFTY26NOV24000CE"])
    ltp: Decimal | None = Field(description="rupees", examples=["182.40"])
    bid: Decimal | None = Field(examples=["182.30"])
    ask: Decimal | None = Field(examples=["182.55"])
    volume: int = Field(examples=[1_254_300])
    oi: int | None = Field(description="open interest, contracts", examples=[98_250])
    oi_change: int | None = Field(
        description="OI now minus the previous session's OI from its stored F&O report (oi_change_source "
        "eod_report), or minus the session's first tick's OI where no report holds it (first_tick)",
        examples=[12_400],
    )
    oi_change_source: str | None = Field(examples=["eod_report"])
    price: Decimal | None = Field(description="the price the IV is solved from, rupees", examples=["182.425"])
    price_source: str | None = Field(
        description="mid (of a live bid and ask), ltp, close (a past session's, traded that day) or settlement "
        "(a past session's contract that did not trade)",
        examples=["mid"],
    )
    prev_close: Decimal | None = Field(description="previous session's close, rupees", examples=["170.10"])
    price_change: Decimal | None = Field(description="LTP (or close) minus prev_close", examples=["12.30"])
    buildup: str | None = Field(
        description="long_buildup (price up, OI up), short_buildup (down, up), short_covering (up, down), "
        "long_unwinding (down, down); null when either change is zero or unknown",
        examples=["long_buildup"],
    )
    iv: float | None = Field(description="implied volatility, percent a year", examples=[13.42])
    iv_status: str = Field(
        description="ok, or why there is no IV: no_quote, no_forward, expired, below_intrinsic, above_max, "
        "no_time_value, not_converged, invalid_input",
        examples=["ok"],
    )
    delta: float | None = Field(description="Black-76, per rupee of the forward", examples=[0.5123])
    gamma: float | None = Field(description="per rupee of the forward", examples=[0.000412])
    theta: float | None = Field(description="rupees per calendar day", examples=[-12.84])
    vega: float | None = Field(description="rupees per volatility point", examples=[18.07])

    @classmethod
    def of(cls, leg: OptionLeg | None) -> OptionLegOut | None:
        if leg is None:
            return None
        return cls(
            symbol=leg.symbol,
            ltp=_r(leg.ltp_paise),
            bid=_r(leg.bid_paise),
            ask=_r(leg.ask_paise),
            volume=leg.volume,
            oi=leg.oi,
            oi_change=leg.oi_change,
            oi_change_source=leg.oi_change_source,
            price=_half(leg.price_paise),
            price_source=leg.price_source,
            prev_close=_r(leg.prev_price_paise),
            price_change=_r(leg.price_change_paise),
            buildup=leg.buildup,
            iv=_pct(leg.iv),
            iv_status=leg.iv_status,
            delta=leg.delta,
            gamma=leg.gamma,
            theta=leg.theta,
            vega=leg.vega,
        )


class StrikeOut(BaseModel):
    strike: Decimal = Field(examples=["24000.00"])
    call: OptionLegOut | None
    put: OptionLegOut | None
    smile_iv: float | None = Field(description="the out-of-the-money side's IV, percent", examples=[13.1])

    @classmethod
    def of(cls, row: StrikeRow, smile: float | None) -> StrikeOut:
        return cls(
            strike=to_rupees(row.strike_paise),
            call=OptionLegOut.of(row.call),
            put=OptionLegOut.of(row.put),
            smile_iv=_pct(smile),
        )


class ExpiryStatsOut(BaseModel):
    expiry: date = Field(examples=["2026-11-26"])
    forward: float | None = Field(description="rupees", examples=[24061.4])
    forward_source: str | None = Field(description="future | parity | spot_carry", examples=["future"])
    atm_strike: Decimal | None = Field(examples=["24050.00"])
    atm_iv: float | None = Field(description="percent", examples=[13.2])
    call_oi: int = Field(description="shares", examples=[98_250_000])
    put_oi: int = Field(examples=[104_100_000])
    pcr_oi: Decimal | None = Field(description="put OI / call OI, exact to 28 digits", examples=["1.0595"])
    pcr_volume: float | None = Field(examples=[0.94])
    max_pain: Decimal | None = Field(description="exact integer arithmetic", examples=["24000.00"])

    @classmethod
    def of(cls, s: ExpiryStats) -> ExpiryStatsOut:
        return cls(
            expiry=date.fromisoformat(s.expiry),
            forward=s.forward,
            forward_source=s.forward_source,
            atm_strike=_r(s.atm_strike_paise),
            atm_iv=_pct(s.atm_iv),
            call_oi=s.call_oi,
            put_oi=s.put_oi,
            pcr_oi=s.pcr_oi_exact,
            pcr_volume=s.pcr_volume,
            max_pain=_r(s.max_pain_paise),
        )


class FutureOut(BaseModel):
    symbol: str = Field(examples=["NIFTY26NOVFUT"])
    expiry: date
    ltp: Decimal | None = Field(examples=["24081.10"])
    prev_settle: Decimal | None = Field(examples=["23990.00"])
    price_change: Decimal | None = Field(examples=["91.10"])
    oi: int | None
    oi_change: int | None
    oi_change_source: str | None = Field(examples=["eod_report"])
    volume: int
    buildup: str | None = Field(examples=["long_buildup"])

    @classmethod
    def of(cls, f: FutureRow) -> FutureOut:
        return cls(
            symbol=f.symbol,
            expiry=date.fromisoformat(f.expiry),
            ltp=_r(f.ltp_paise),
            prev_settle=_r(f.prev_price_paise),
            price_change=_r(f.price_change_paise),
            oi=f.oi,
            oi_change=f.oi_change,
            oi_change_source=f.oi_change_source,
            volume=f.volume,
            buildup=f.buildup,
        )


class ChainSummaryOut(BaseModel):
    spot: Decimal | None = Field(examples=["24012.35"])
    forward: float | None = Field(
        description="the forward IVs and Greeks are priced on, rupees", examples=[24061.4]
    )
    forward_source: str | None = Field(
        description="future (the expiry's future's price), parity (put-call parity at the strikes nearest the "
        "money), spot_carry (spot carried at the rate)",
        examples=["future"],
    )
    atm_strike: Decimal | None = Field(description="the strike nearest the forward", examples=["24000.00"])
    pcr_oi: float | None = Field(description="put OI / call OI", examples=[1.08])
    pcr_oi_exact: Decimal | None = Field(description="the same ratio of the integer OI sums, 28 digits")
    call_oi: int = Field(description="shares", examples=[98_250_000])
    put_oi: int = Field(examples=[104_100_000])
    pcr_volume: float | None = Field(examples=[0.94])
    max_pain: Decimal | None = Field(description="exact integer arithmetic", examples=["24000.00"])
    oi_change_session: date | None = Field(
        description="the stored session OI change is measured from (null: none stored)",
        examples=["2026-11-20"],
    )
    iv_percentile: float | None = Field(
        description="percent of past sessions whose ATM IV was below today's", examples=[62.5]
    )
    iv_rank: float | None = Field(
        description="(ATM IV - low) / (high - low) x 100 over them", examples=[48.1]
    )
    iv_history_sessions: int = Field(description="how many stored sessions that is", examples=[10])
    iv_history_rule: str = Field(description="which ATM IV is compared")
    atm_iv: float | None = Field(description="percent", examples=[13.2])
    iv_put_call_atm: float | None = Field(description="put IV - call IV at ATM, vol points", examples=[0.35])
    rr25: float | None = Field(description="25-delta risk reversal, call - put, vol points", examples=[-2.1])
    bf25: float | None = Field(description="25-delta butterfly, vol points", examples=[0.6])
    days_to_expiry: float = Field(description="calendar days to 15:30 IST on expiry", examples=[3.27])
    rate: float = Field(description="risk-free rate used, percent", examples=[6.5])

    @classmethod
    def of(cls, s: ChainSummary) -> ChainSummaryOut:
        return cls(
            spot=_r(s.spot_paise),
            atm_strike=_r(s.atm_strike_paise),
            pcr_oi=s.pcr_oi,
            forward=s.forward,
            forward_source=s.forward_source,
            pcr_oi_exact=s.pcr_oi_exact,
            call_oi=s.call_oi,
            put_oi=s.put_oi,
            pcr_volume=s.pcr_volume,
            max_pain=_r(s.max_pain_paise),
            oi_change_session=None
            if s.oi_change_session is None
            else date.fromisoformat(s.oi_change_session),
            iv_percentile=s.iv_percentile,
            iv_rank=s.iv_rank,
            iv_history_sessions=s.iv_history_sessions,
            iv_history_rule=s.iv_history_expiry_rule,
            atm_iv=_pct(s.atm_iv),
            iv_put_call_atm=_pct(s.iv_put_call_atm),
            rr25=_pct(s.rr25),
            bf25=_pct(s.bf25),
            days_to_expiry=s.years_to_expiry * 365,
            rate=s.rate * 100,
        )


class OptionChainOut(BaseModel):
    underlying: str = Field(examples=["NIFTY"])
    expiry: date = Field(examples=["2026-11-26"])
    expiries: list[date] = Field(description="every expiry not yet passed (in the master, or that report)")
    source: str = Field(description="live (latest quotes) or eod_report (a past session)", examples=["live"])
    session: date | None = Field(description="the report's session of a past chain")
    summary: ChainSummaryOut
    by_expiry: list[ExpiryStatsOut] = Field(
        description="PCR, max pain, forward and ATM IV of the nearest expiries"
    )
    futures: list[FutureOut] = Field(description="the underlying's live futures, with OI build-up")
    strikes: list[StrikeOut]
    streaming: bool = Field(
        True,
        description="false: none of the expiry's contracts had a quote yet; the feed has been asked to stream "
        "this chain (quotes follow within the feed's next subscription refresh, about a minute)",
    )
    note: str | None = Field(None, examples=[None])

    @classmethod
    def of(cls, c: OptionChain) -> OptionChainOut:
        return cls(
            underlying=c.underlying,
            expiry=date.fromisoformat(c.expiry),
            expiries=[date.fromisoformat(e) for e in c.expiries],
            source=c.source,
            session=None if c.session is None else date.fromisoformat(c.session),
            summary=ChainSummaryOut.of(c.summary),
            by_expiry=[ExpiryStatsOut.of(s) for s in c.by_expiry],
            futures=[FutureOut.of(f) for f in c.futures],
            strikes=[StrikeOut.of(r, s) for r, s in zip(c.rows, c.smile, strict=True)],
            streaming=c.streaming,
            note=None
            if c.streaming
            else f"{c.underlying} was not streamed yet: subscribed now, quotes follow within about a minute",
        )


@router.get(
    "/api/option-chain/{symbol}",
    response_model=OptionChainOut,
    summary="Option chain of an underlying for one expiry",
    description="Per strike: call and put LTP, bid/ask, volume, OI, OI change since the previous session and "
    "build-up, IV (from the bid/ask mid, else LTP) and Greeks, Black-76 on the expiry's forward; summary: "
    "forward and its source, ATM, PCR and max pain (exact), skew, IV percentile and rank over the stored "
    "sessions; PCR by expiry; the futures' build-up. Without `expiry`, the nearest live one; an expiry with "
    "no contracts answers 404 listing the known ones. With `date`, that session's chain from its stored F&O "
    "report at its close (404 naming the session or expiry when it was not ingested).",
)
def option_chain(
    symbol: str,
    user: CurrentUser,
    services: Services,
    expiry: Annotated[
        date | None, Query(description="YYYY-MM-DD; default: nearest", examples=["2026-11-26"])
    ] = None,
    session: Annotated[
        date | None,
        Query(alias="date", description="a past session, YYYY-MM-DD: its chain from the stored F&O report"),
    ] = None,
) -> OptionChainOut:
    chain = services.option_chains.chain(
        symbol,
        None if expiry is None else expiry.isoformat(),
        None if session is None else session.isoformat(),
    )
    return OptionChainOut.of(chain)
