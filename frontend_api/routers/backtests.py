from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from mantra.backtests.models import BacktestJob, BacktestRequest
from mantra.clock import utc_from_ms
from mantra.errors import NotFound
from pydantic import BaseModel, Field

from frontend_api.deps import CurrentUser, Entitled, Services

router = APIRouter(tags=["backtests"], dependencies=[Entitled("backtests")])


class BacktestJobOut(BaseModel):
    job_id: str = Field(examples=["bt_1795454600000_3f2a9c01"])
    status: str = Field(examples=["succeeded"], description="queued, running, succeeded or failed")
    strategy: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] | None = Field(description="headline metrics once succeeded")
    error: str | None = Field(description="why it failed, when it did")
    result_url: str
    report_url: str | None

    @classmethod
    def of(cls, j: BacktestJob) -> BacktestJobOut:
        def t(ms: int | None) -> datetime | None:
            return None if ms is None else utc_from_ms(ms)

        base = f"/api/backtests/{j.job_id}"
        return cls(
            job_id=j.job_id,
            status=j.status.value,
            strategy=str(j.request.get("strategy")),
            created_at=utc_from_ms(j.created_ms),
            started_at=t(j.started_ms),
            finished_at=t(j.finished_ms),
            summary=j.summary,
            error=j.error,
            result_url=f"{base}/result",
            report_url=f"{base}/report" if j.request.get("report") else None,
        )


@router.post(
    "/api/backtests",
    response_model=BacktestJobOut,
    status_code=202,
    summary="Queue a backtest (poll GET /api/backtests/{id})",
)
def submit(body: BacktestRequest, user: CurrentUser, services: Services) -> BacktestJobOut:
    return BacktestJobOut.of(services.backtests.submit(user, body))


@router.get("/api/backtests", response_model=list[BacktestJobOut], summary="Your backtests, newest first")
def history(
    user: CurrentUser, services: Services, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[BacktestJobOut]:
    return [BacktestJobOut.of(j) for j in services.backtests.recent(user, limit)]


@router.get(
    "/api/backtests/{job_id}", response_model=BacktestJobOut, summary="A backtest's status and summary"
)
def status(job_id: str, user: CurrentUser, services: Services) -> BacktestJobOut:
    return BacktestJobOut.of(services.backtests.get(user, job_id))


@router.get(
    "/api/backtests/{job_id}/result", summary="Metrics, trades, equity series, Monte Carlo, walk-forward"
)
def result(job_id: str, user: CurrentUser, services: Services) -> dict[str, Any]:
    data = services.backtests.result(user, job_id)
    if data is None:
        raise NotFound(f"backtest {job_id} has no result yet; see its status")
    data.pop("report_html", None)
    return data


@router.get(
    "/api/backtests/{job_id}/report",
    response_class=HTMLResponse,
    summary="The HTML report (equity, drawdown, trades on price)",
)
def report(job_id: str, user: CurrentUser, services: Services) -> Response:
    data = services.backtests.result(user, job_id)
    if data is None or not data.get("report_html"):
        raise NotFound(f'backtest {job_id} has no report; submit with "report": true')
    return HTMLResponse(data["report_html"])
