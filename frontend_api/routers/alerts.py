from __future__ import annotations

from fastapi import APIRouter, Response
from mantra.alerts.service import RuleSpec

from frontend_api.deps import CurrentUser, Entitled, Services
from frontend_api.schemas import AlertIn, AlertOut, AlertPatch

router = APIRouter(tags=["alerts"], dependencies=[Entitled("alerts")])


@router.post("/api/alerts", response_model=AlertOut, status_code=201, summary="Create an alert rule")
def create_alert(body: AlertIn, user: CurrentUser, services: Services) -> AlertOut:
    rule = RuleSpec.model_validate({"symbol": body.symbol, "condition": body.condition, **body.options()})
    return AlertOut.of(services.alert_service.create_rule(user, rule), services.clock.now_ms())


@router.get("/api/alerts", response_model=list[AlertOut], summary="Your alerts")
def list_alerts(user: CurrentUser, services: Services) -> list[AlertOut]:
    now = services.clock.now_ms()
    return [AlertOut.of(a, now) for a in services.alert_service.list(user)]


@router.get("/api/alerts/{alert_id}", response_model=AlertOut, summary="One of your alerts")
def get_alert(alert_id: str, user: CurrentUser, services: Services) -> AlertOut:
    return AlertOut.of(services.alert_service.get(user, alert_id), services.clock.now_ms())


@router.patch("/api/alerts/{alert_id}", response_model=AlertOut, summary="Change, pause or resume an alert")
def update_alert(alert_id: str, body: AlertPatch, user: CurrentUser, services: Services) -> AlertOut:
    return AlertOut.of(services.alert_service.update(user, alert_id, body.changes()), services.clock.now_ms())


@router.delete("/api/alerts/{alert_id}", status_code=204, response_class=Response, summary="Delete an alert")
def delete_alert(alert_id: str, user: CurrentUser, services: Services) -> Response:
    services.alert_service.delete(user, alert_id)
    return Response(status_code=204)
