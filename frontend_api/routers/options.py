"""Option chains: per strike prices, OI, IV and Greeks, and the chain's summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from mantra.market.option_chain import ChainSummary, OptionChain, OptionLeg, StrikeRow
from mantra.money import to_rupees
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Entitled, Services

router = APIRouter(tags=["option chains"], dependencies=[Entitled("option_analytics")])


def _r(paise: int | None) -> Decimal | None:
    return None if paise is None else to_rupees(paise)


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
        description="OI now minus OI at the session's first tick", examples=[12_400]
    )
    iv: float | None = Field(description="implied volatility, percent a year", examples=[13.42])
    iv_status: str = Field(
        description="ok, or why there is no IV: no_quote, no_spot, expired, below_intrinsic, above_max, "
        "no_time_value, not_converged, invalid_input",
        examples=["ok"],
    )
    delta: float | None = Field(examples=[0.5123])
    gamma: float | None = Field(description="per rupee of the underlying", examples=[0.000412])
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


class ChainSummaryOut(BaseModel):
    spot: Decimal | None = Field(examples=["24012.35"])
    atm_strike: Decimal | None = Field(description="the strike nearest the forward", examples=["24000.00"])
    pcr_oi: float | None = Field(description="put OI / call OI", examples=[1.08])
    pcr_volume: float | None = Field(examples=[0.94])
    max_pain: Decimal | None = Field(examples=["24000.00"])
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
            pcr_volume=s.pcr_volume,
            max_pain=_r(s.max_pain_paise),
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
    expiries: list[date] = Field(description="every expiry with contracts in the instrument master")
    summary: ChainSummaryOut
    strikes: list[StrikeOut]

    @classmethod
    def of(cls, c: OptionChain) -> OptionChainOut:
        return cls(
            underlying=c.underlying,
            expiry=date.fromisoformat(c.expiry),
            expiries=[date.fromisoformat(e) for e in c.expiries],
            summary=ChainSummaryOut.of(c.summary),
            strikes=[StrikeOut.of(r, s) for r, s in zip(c.rows, c.smile, strict=True)],
        )


@router.get(
    "/api/option-chain/{symbol}",
    response_model=OptionChainOut,
    summary="Option chain of an underlying for one expiry",
    description="Per strike: call and put LTP, bid/ask, volume, OI and OI change, IV and Greeks "
    "(Black-Scholes on the latest quotes); summary: spot, ATM, PCR, max pain, skew. "
    "Without `expiry`, the nearest one; an expiry with no contracts answers 404 listing the known ones.",
)
def option_chain(
    symbol: str,
    user: CurrentUser,
    services: Services,
    expiry: Annotated[
        date | None, Query(description="YYYY-MM-DD; default: nearest", examples=["2026-11-26"])
    ] = None,
) -> OptionChainOut:
    chain = services.option_chains.chain(symbol, None if expiry is None else expiry.isoformat())
    return OptionChainOut.of(chain)
