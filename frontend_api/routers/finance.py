"""The finance view (roles finance and admin): MRR, ARR, ARPU, churn, trial conversion, revenue by stream."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from mantra.billing.finance import MonthMetrics, to_csv
from mantra.domain import Role, User

from frontend_api.deps import RequireRole, Services

router = APIRouter(prefix="/api/finance", tags=["finance"])
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])]


@router.get(
    "/metrics",
    response_model=list[MonthMetrics],
    summary="Monthly SaaS metrics per currency (format=csv for a spreadsheet)",
    responses={200: {"content": {"text/csv": {}}}},
)
def metrics(
    services: Services,
    user: Annotated[User, RequireRole(Role.FINANCE, Role.ADMIN)],
    start: Month,
    end: Month,
    currency: Annotated[str | None, Query(pattern="^(INR|USD)$")] = None,
    format: Literal["json", "csv"] = "json",
) -> list[MonthMetrics] | Response:
    rows = services.finance.monthly(start, end, currency)
    if format == "csv":
        return PlainTextResponse(
            to_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="trade-mantra-{start}-{end}.csv"'},
        )
    return rows
