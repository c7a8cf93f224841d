from __future__ import annotations

from fastapi import APIRouter, Response
from mantra.money import to_paise

from frontend_api.deps import CurrentUser, Services
from frontend_api.schemas import AlertIn, AlertOut

router = APIRouter(tags=["alerts"])


@router.post("/api/alerts", response_model=AlertOut, status_code=201, summary="Create a price alert")
def create_alert(body: AlertIn, user: CurrentUser, services: Services) -> AlertOut:
    alert = services.alert_service.create(
        user, body.symbol, body.condition, to_paise(body.price), tuple(body.channels), body.note
    )
    return AlertOut.of(alert)


@router.get("/api/alerts", response_model=list[AlertOut], summary="Your alerts")
def list_alerts(user: CurrentUser, services: Services) -> list[AlertOut]:
    return [AlertOut.of(a) for a in services.alert_service.list(user)]


@router.get("/api/alerts/{alert_id}", response_model=AlertOut, summary="One of your alerts")
def get_alert(alert_id: str, user: CurrentUser, services: Services) -> AlertOut:
    return AlertOut.of(services.alert_service.get(user, alert_id))


@router.delete("/api/alerts/{alert_id}", status_code=204, response_class=Response, summary="Delete an alert")
def delete_alert(alert_id: str, user: CurrentUser, services: Services) -> Response:
    services.alert_service.delete(user, alert_id)
    return Response(status_code=204)
