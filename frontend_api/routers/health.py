from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from mantra.health import HealthReport

from frontend_api.deps import Services

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "a part of the platform is down; see components"}},
    summary="Is every part of the platform up? (no sign-in needed)",
)
def health(services: Services) -> JSONResponse:
    report = services.health.report()
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.ok else 503)
