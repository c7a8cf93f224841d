"""Delivery preferences (channels, quiet hours), the verified SMS number and push devices of the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Response
from mantra.alerts.phone import keep_verification
from mantra.clock import utc_from_ms
from mantra.domain import Preferences
from mantra.errors import NotFound

from frontend_api.deps import CurrentUser, Entitled, Services
from frontend_api.schemas import DeviceIn, DeviceOut, PhoneCodeIn, PhoneIn, PhoneStartedOut, PreferencesIO

router = APIRouter(tags=["preferences"])


def _out(p: Preferences) -> PreferencesIO:
    return PreferencesIO(
        **p.model_dump(exclude={"push_endpoints", "quiet_channels", "phone_verified_ms"}),
        quiet_channels=list(p.quiet_channels),
        devices=len(p.push_endpoints),
        phone_verified=p.phone_e164 is not None and p.phone_verified_ms is not None,
    )


@router.get("/api/me/preferences", response_model=PreferencesIO, summary="How alerts reach you")
def get_preferences(user: CurrentUser, services: Services) -> PreferencesIO:
    return _out(services.alert_service.preferences(user))


@router.put(
    "/api/me/preferences", response_model=PreferencesIO, summary="Set channels, phone and quiet hours"
)
def put_preferences(body: PreferencesIO, user: CurrentUser, services: Services) -> PreferencesIO:
    current = services.alert_service.preferences(user)
    wanted = Preferences(
        **body.model_dump(exclude={"devices", "phone_verified"}), push_endpoints=current.push_endpoints
    )
    return _out(services.alert_service.save_preferences(user, keep_verification(current, wanted)))


@router.post(
    "/api/me/phone",
    response_model=PhoneStartedOut,
    status_code=202,
    summary="Add or change your SMS number: a 6-digit code is sent to it",
    dependencies=[Entitled("sms_alerts")],
)
def start_phone(body: PhoneIn, user: CurrentUser, services: Services) -> PhoneStartedOut:
    started = services.phone_verification.start(user, body.phone_e164)
    return PhoneStartedOut(
        phone_e164=started.phone_e164,
        expires_at=utc_from_ms(started.expires_ms),
        resend_after=utc_from_ms(started.resend_after_ms),
    )


@router.post(
    "/api/me/phone/verify",
    response_model=PreferencesIO,
    summary="Confirm your SMS number with the code sent to it",
    dependencies=[Entitled("sms_alerts")],
)
def verify_phone(body: PhoneCodeIn, user: CurrentUser, services: Services) -> PreferencesIO:
    return _out(services.phone_verification.confirm(user, body.code))


@router.post(
    "/api/me/devices", response_model=DeviceOut, status_code=201, summary="Register a phone for push"
)
def add_device(body: DeviceIn, user: CurrentUser, services: Services) -> DeviceOut:
    arn = services.sns.register_device(body.token)
    prefs = services.alert_service.preferences(user)
    if arn not in prefs.push_endpoints:
        prefs = prefs.model_copy(update={"push_endpoints": (*prefs.push_endpoints, arn), "push": True})
        services.alert_service.save_preferences(user, prefs)
    return DeviceOut(device_id=arn.rsplit("/", 1)[-1])


@router.delete(
    "/api/me/devices/{device_id}", status_code=204, response_class=Response, summary="Forget a push device"
)
def remove_device(device_id: str, user: CurrentUser, services: Services) -> Response:
    prefs = services.alert_service.preferences(user)
    match = [arn for arn in prefs.push_endpoints if arn.rsplit("/", 1)[-1] == device_id]
    if not match:
        raise NotFound(f"device {device_id} not found")
    services.sns.delete_device(match[0])
    remaining = tuple(a for a in prefs.push_endpoints if a != match[0])
    services.alert_service.save_preferences(user, prefs.model_copy(update={"push_endpoints": remaining}))
    return Response(status_code=204)
