"""Universes (what scans take as ``universe``) and F&O contract specifications, both as data.

Indices come from the exchange's constituents file, ``fno`` and ``nse_eq`` from the stored reports, lot sizes,
expiries and strikes from the stored F&O bhavcopy as of a date. Every route needs a signed-in user.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from mantra.clock import ist_from_ms
from mantra.market.fo_contracts import ContractSpecs
from mantra.market.universes import Universe
from mantra.money import to_rupees
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Services

router = APIRouter(tags=["universes"])


class UniverseOut(BaseModel):
    name: str = Field(examples=["niftybank"], description="what scans and scanners take as `universe`")
    title: str = Field(examples=["NIFTY BANK"])
    category: str = Field(examples=["Sectoral"], description="the exchange's index category, or demo")
    description: str = Field(examples=["NIFTY BANK: the exchange's sectoral index, 12 members"])
    size: int = Field(examples=[12])
    source: str = Field(examples=["NSE index constituents download (index_constituents.csv)"])
    as_of: date | None = Field(
        default=None, examples=["2025-09-14"], description="the source's date (IST); null when none is stored"
    )
    symbols: list[str] = Field(examples=[["HDFCBANK", "ICICIBANK"]])

    @classmethod
    def of(cls, u: Universe) -> UniverseOut:
        return cls(
            name=u.name,
            title=u.title,
            category=u.category,
            description=u.description,
            size=len(u.symbols),
            source=u.source,
            as_of=u.as_of,
            symbols=list(u.symbols),
        )


@router.get(
    "/api/universes",
    response_model=list[UniverseOut],
    summary="The universes scans can run on",
    description="Indices from the exchange's own constituents file, `fno` (the underlyings with stock futures "
    "in the latest stored F&O report), `nse_eq` (every EQ symbol with stored daily history) and the demo set. "
    "A scan also takes symbols separated by commas; an unknown name answers 422 listing these.",
)
def universes(user: CurrentUser, services: Services) -> list[UniverseOut]:
    return [UniverseOut.of(u) for u in services.universes.all()]


class ExpiryOut(BaseModel):
    expiry: date = Field(examples=["2025-02-27"])
    lot_size: int = Field(examples=[75])
    has_future: bool
    strikes: list[str] = Field(description="rupees, ascending", examples=[["23000.00", "23050.00"]])


class ContractSpecsOut(BaseModel):
    underlying: str = Field(examples=["NIFTY"])
    as_of: date = Field(examples=["2025-02-14"])
    session: date = Field(description="the F&O report these figures are from (on or before as_of)")
    source: str = Field(examples=["BhavCopy_NSE_FO_0_0_0_20250214_F_0000.csv.zip"])
    lot_size: int = Field(examples=[75], description="the nearest expiry's lot size")
    strike_step: str | None = Field(default=None, examples=["50.00"], description="rupees")
    expiries: list[ExpiryOut]

    @classmethod
    def of(cls, s: ContractSpecs) -> ContractSpecsOut:
        step = s.strike_step_paise
        return cls(
            underlying=s.underlying,
            as_of=s.as_of,
            session=s.session,
            source=s.source,
            lot_size=s.lot_size,
            strike_step=None if step is None else f"{to_rupees(step):.2f}",
            expiries=[
                ExpiryOut(
                    expiry=e.expiry,
                    lot_size=e.lot_size,
                    has_future=e.has_future,
                    strikes=[f"{to_rupees(k):.2f}" for k in e.strikes_paise],
                )
                for e in s.expiries
            ],
        )


@router.get(
    "/api/fno/{underlying}",
    response_model=ContractSpecsOut,
    summary="Lot size, expiries and strikes of an F&O underlying as of a date",
    description="From the latest stored F&O bhavcopy on or before `as_of` (today, IST, by default). An "
    "underlying or date no stored report covers answers 422 naming both.",
    responses={422: {"description": "no stored F&O report covers the underlying on that date"}},
)
def contract_specs(
    underlying: str,
    user: CurrentUser,
    services: Services,
    as_of: Annotated[date | None, Query(description="IST date", examples=["2025-02-14"])] = None,
) -> ContractSpecsOut:
    day = as_of or ist_from_ms(services.clock.now_ms()).date()
    return ContractSpecsOut.of(services.fo_lookup.specs(underlying, day))
