"""What a user asks for and what a job looks like. The request is the API body, kept with the job."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mantra.quant.backtest.service import CostsIn, ExitsIn, MonteCarloIn, OptimizeIn, SeriesIn, SizingIn

BACKTEST_REQUESTED = "backtest.requested"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class BacktestRequest(BaseModel):
    """Backtest stored data for ``symbols`` between ``start`` and ``end``, or your own bars in ``series``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "strategy": "sma_cross",
                    "params": {"fast": 10, "slow": 20},
                    "symbols": ["RELIANCE"],
                    "start": "2024-01-01",
                    "end": "2025-12-31",
                    "cash": "100000.00",
                    "costs": {"model": "india", "segment": "equity_delivery"},
                }
            ]
        },
    )

    strategy: str = Field(min_length=1, max_length=64, examples=["sma_cross"])
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    symbols: list[str] | None = Field(default=None, min_length=1, max_length=50)
    timeframe: Literal["1d"] = "1d"
    start: date | None = None
    end: date | None = None
    series: list[SeriesIn] | None = Field(
        default=None, min_length=1, max_length=50, description="your own bars"
    )
    benchmark: str | None = Field(default=None, examples=["NIFTY 50"], description="a symbol for alpha/beta")
    cash: Decimal = Field(default=Decimal("100000"), gt=0, max_digits=14, decimal_places=2)
    costs: CostsIn = Field(default_factory=CostsIn)
    sizing: SizingIn = Field(default_factory=SizingIn)
    exits: ExitsIn = Field(default_factory=ExitsIn)
    monte_carlo: MonteCarloIn | None = None
    optimize: OptimizeIn | None = None
    report: bool = Field(default=False, description="also render the HTML report (GET .../report)")

    @model_validator(mode="after")
    def _one_source(self) -> BacktestRequest:
        if (self.symbols is None) == (self.series is None):
            raise ValueError("give either symbols (with start and end) or series (your own bars), not both")
        if self.symbols is not None:
            if self.start is None or self.end is None:
                raise ValueError("start and end are required with symbols")
            if self.start >= self.end:
                raise ValueError("start must be before end")
            self.symbols = [s.strip().upper() for s in self.symbols]
        return self


class BacktestJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    tenant_id: str
    user_id: str
    status: JobStatus
    request: dict[str, Any]
    summary: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    created_ms: int
    started_ms: int | None = None
    finished_ms: int | None = None
