"""Scanners: presets, on-demand runs, saved scanners (plan-limited) and the signals their schedules detect.

A bad expression answers 422 with its position ("line 1, col 14: expected ')'"); one too expensive for the
plan, or one scanner too many, answers 403; another tenant's scanner is 404.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response
from mantra.clock import ist_from_ms, utc_from_ms
from mantra.money import to_rupees
from mantra.quant.scanner.presets import Preset
from mantra.scans.models import Every, Hit, Scanner, ScanRun, Signal
from pydantic import BaseModel, ConfigDict, Field

from frontend_api.deps import CurrentUser, Entitled, Services
from frontend_api.errors import answers

router = APIRouter(tags=["scanners"], dependencies=[Entitled("scanners")])

Timeframe = Annotated[str, Field(pattern=r"^(1m|5m|15m|1h|1d)$", examples=["1d"])]
Expression = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        examples=["rsi(14) < 30 and close > sma(close, 200) and volume > 2 * sma(volume, 20)"],
    ),
]
Universe = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        examples=["nifty50"],
        description="a universe from GET /api/universes (nifty50, niftybank, fno, nse_eq, demo, ...) or SYM1,SYM2",
    ),
]


class PresetOut(BaseModel):
    preset_id: str = Field(examples=["breakout_20d_volume"])
    name: str = Field(examples=["20-day breakout on volume"])
    category: str = Field(examples=["breakouts"])
    description: str
    expression: str = Field(examples=["breakout(20) and volume > 1.5 * sma(volume, 20)"])
    timeframe: str = Field(examples=["1d"])

    @classmethod
    def of(cls, p: Preset) -> PresetOut:
        return cls(**p.model_dump())


class RunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expression": "rsi(14) < 30 and close > sma(close, 200)",
                    "timeframe": "1d",
                    "universe": "nifty50",
                },
                {"preset_id": "volume_shockers", "universe": "nifty50"},
                {"scanner_id": "scn_5f2c1e7a9b3d4c6e"},
            ]
        },
    )
    expression: Expression | None = None
    scanner_id: str | None = Field(None, examples=["scn_5f2c1e7a9b3d4c6e"])
    preset_id: str | None = Field(None, examples=["volume_shockers"])
    timeframe: Timeframe = "1d"
    universe: Universe = "nifty50"
    limit: int = Field(100, ge=1, le=1000)
    as_of: date | None = Field(
        None,
        description="scan the bars up to the end of this session (IST date); default: now",
        examples=["2025-04-30"],
    )


class HitOut(BaseModel):
    symbol: str = Field(examples=["RELIANCE"])
    close: Decimal = Field(examples=["2450.35"], description="rupees, exact to the paisa")
    change_pct: Decimal | None = Field(examples=["1.25"], description="change from the previous bar, %")
    volume: int

    @classmethod
    def of(cls, h: Hit) -> HitOut:
        return cls(
            symbol=h.symbol,
            close=to_rupees(h.close_paise),
            change_pct=h.change_pct,
            volume=h.volume,
        )


class CoverageOut(BaseModel):
    """Where the answer's data came from and what it lacked. Nothing is ever generated to fill a gap."""

    source: str = Field(
        "stored", description="stored candles: exchange reports, broker history, the live feed"
    )
    complete: bool = Field(description="every symbol had all the bars the expression needs, up to as_of")
    no_data: list[str] = Field(description="symbols with no stored bars: they could not match", examples=[[]])
    short_history: dict[str, int] = Field(
        description="symbols with fewer bars than the expression needs: how many they had", examples=[{}]
    )
    stale: dict[str, date] = Field(
        description="symbols without a bar on as_of: the session of their own latest bar", examples=[{}]
    )

    @classmethod
    def of(cls, r: ScanRun) -> CoverageOut:
        return cls(
            complete=not (r.no_data or r.short_history or r.stale),
            no_data=list(r.no_data),
            short_history=dict(r.short_history),
            stale={s: ist_from_ms(ms).date() for s, ms in r.stale.items()},
        )


class RunOut(BaseModel):
    expression: str
    timeframe: str = Field(examples=["1d"])
    universe: str = Field(examples=["nifty50"])
    cost: int = Field(description="cost units of the expression (plans allow a budget per scan)")
    scanned: int
    bar_time: datetime | None = Field(description="start of the bar the scan was read on (UTC)")
    as_of: date | None = Field(
        description="the session (IST date) of that bar: the latest stored one up to the request's moment",
        examples=["2025-04-30"],
    )
    matches: list[HitOut]
    data: CoverageOut
    elapsed_ms: float

    @classmethod
    def of(cls, r: ScanRun) -> RunOut:
        return cls(
            expression=r.expression,
            timeframe=r.timeframe,
            universe=r.universe,
            cost=r.cost,
            scanned=r.scanned,
            bar_time=utc_from_ms(r.bar_ms) if r.bar_ms else None,
            as_of=ist_from_ms(r.bar_ms).date() if r.bar_ms else None,
            matches=[HitOut.of(h) for h in r.hits],
            data=CoverageOut.of(r),
            elapsed_ms=r.elapsed_ms,
        )


class ScannerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80, examples=["Oversold large caps"])
    expression: Expression
    timeframe: Timeframe = "1d"
    universe: Universe = "nifty50"
    schedule: Every = Field(Every.OFF, description="run every 1, 5 or 15 minutes in market hours, or off")


class ScannerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=80)
    expression: Expression | None = None
    timeframe: Timeframe | None = None
    universe: Universe | None = None
    schedule: Every | None = None


class ScannerOut(BaseModel):
    scanner_id: str = Field(examples=["scn_5f2c1e7a9b3d4c6e"])
    name: str
    expression: str
    timeframe: str
    universe: str
    schedule: Every
    cost: int
    created: datetime
    updated: datetime
    last_run: datetime | None
    last_matches: list[str]

    @classmethod
    def of(cls, s: Scanner) -> ScannerOut:
        return cls(
            scanner_id=s.scanner_id,
            name=s.name,
            expression=s.expression,
            timeframe=s.timeframe,
            universe=s.universe,
            schedule=s.schedule,
            cost=s.cost,
            created=utc_from_ms(s.created_ms),
            updated=utc_from_ms(s.updated_ms),
            last_run=None if s.last_run_ms is None else utc_from_ms(s.last_run_ms),
            last_matches=list(s.last_hits),
        )


class SignalOut(BaseModel):
    signal_id: str = Field(examples=["sig_0b6f4d3c2a1e9f8d7c6b5a4e3d2c1b0a"])
    scanner_id: str
    scanner_name: str
    symbol: str = Field(examples=["TCS"])
    timeframe: str
    price: Decimal = Field(examples=["3920.50"], description="rupees, exact to the paisa")
    change_pct: Decimal | None
    detected: datetime
    bar_time: datetime

    @classmethod
    def of(cls, s: Signal) -> SignalOut:
        return cls(
            signal_id=s.signal_id,
            scanner_id=s.scanner_id,
            scanner_name=s.scanner_name,
            symbol=s.symbol,
            timeframe=s.timeframe,
            price=to_rupees(s.price_paise),
            change_pct=s.change_pct,
            detected=utc_from_ms(s.detected_ms),
            bar_time=utc_from_ms(s.bar_ms),
        )


@router.get("/api/scans/presets", response_model=list[PresetOut], summary="Built-in scanners")
def presets(user: CurrentUser, services: Services) -> list[PresetOut]:
    return [PresetOut.of(p) for p in services.scans.presets()]


@router.post(
    "/api/scans/run",
    response_model=RunOut,
    responses=answers(404),
    summary="Run an expression, a preset or a saved scanner now",
)
def run_scan(body: RunIn, user: CurrentUser, services: Services) -> RunOut:
    run = services.scans.run(
        user,
        expression=body.expression,
        timeframe=body.timeframe,
        universe_spec=body.universe,
        scanner_id=body.scanner_id,
        preset_id=body.preset_id,
        limit=body.limit,
        as_of=body.as_of,
    )
    return RunOut.of(run)


@router.post("/api/scanners", response_model=ScannerOut, status_code=201, summary="Save a scanner")
def create_scanner(body: ScannerIn, user: CurrentUser, services: Services) -> ScannerOut:
    s = services.scans.create(user, body.name, body.expression, body.timeframe, body.universe, body.schedule)
    return ScannerOut.of(s)


@router.get("/api/scanners", response_model=list[ScannerOut], summary="Your saved scanners")
def list_scanners(user: CurrentUser, services: Services) -> list[ScannerOut]:
    return [ScannerOut.of(s) for s in services.scans.list(user)]


@router.get("/api/scanners/{scanner_id}", response_model=ScannerOut, summary="One of your scanners")
def get_scanner(scanner_id: str, user: CurrentUser, services: Services) -> ScannerOut:
    return ScannerOut.of(services.scans.get(user, scanner_id))


@router.patch("/api/scanners/{scanner_id}", response_model=ScannerOut, summary="Change a saved scanner")
def update_scanner(scanner_id: str, body: ScannerPatch, user: CurrentUser, services: Services) -> ScannerOut:
    s = services.scans.update(
        user,
        scanner_id,
        name=body.name,
        expression=body.expression,
        timeframe=body.timeframe,
        universe_spec=body.universe,
        schedule=body.schedule,
    )
    return ScannerOut.of(s)


@router.delete(
    "/api/scanners/{scanner_id}", status_code=204, response_class=Response, summary="Delete a scanner"
)
def delete_scanner(scanner_id: str, user: CurrentUser, services: Services) -> Response:
    services.scans.delete(user, scanner_id)
    return Response(status_code=204)


@router.get(
    "/api/signals",
    response_model=list[SignalOut],
    responses=answers(404),
    summary="Signals your scheduled scanners detected",
)
def list_signals(
    user: CurrentUser,
    services: Services,
    scanner_id: Annotated[str | None, Query(description="only this scanner's signals")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SignalOut]:
    return [SignalOut.of(s) for s in services.scans.signals(user, scanner_id, limit)]
