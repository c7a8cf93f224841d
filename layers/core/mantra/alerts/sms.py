"""SMS the way India's rules want it, and only as much as the plan allows.

TRAI's DLT rules: a commercial SMS to an Indian number names the sender's registered principal entity and the
registered template its text follows, and comes from a registered header (the sender id); operators drop one
that does not. SNS carries the three as message attributes (``AWS.MN.SMS.EntityId``, ``AWS.MN.SMS.TemplateId``,
``AWS.SNS.SMS.SenderID``). Alerts and verification codes are different templates. Every SMS is Transactional.

The plan's ``sms_per_month`` counts SMS alerts per tenant per IST calendar month, atomically (one conditional
write); an SMS that then fails to go out gives its place back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from mantra.billing.ports import PlanSource
from mantra.clock import Clock, ist_from_ms
from mantra.domain import Frozen, User
from mantra.settings import Settings

INDIA = "+91"
LIMIT_NAME = "sms_per_month"
COUNTER_DAYS = 62  # a month's counter outlives its month (TTL), then goes


class SmsKind(StrEnum):
    ALERT = "alert"
    CODE = "code"  # a phone verification code


class DltNotConfigured(RuntimeError):
    """An SMS to an Indian number without the DLT registration it must carry: not sent."""


class DltRegistration(Frozen):
    entity_id: str = ""
    alert_template_id: str = ""
    code_template_id: str = ""
    sender_id: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> DltRegistration:
        return cls(
            entity_id=settings.sms_dlt_entity_id,
            alert_template_id=settings.sms_dlt_alert_template_id,
            code_template_id=settings.sms_dlt_code_template_id,
            sender_id=settings.sms_sender_id,
        )

    def template_for(self, kind: SmsKind) -> str:
        return self.code_template_id if kind is SmsKind.CODE else self.alert_template_id


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def sms_attributes(phone_e164: str, kind: SmsKind, dlt: DltRegistration) -> dict[str, dict[str, str]]:
    """The SNS message attributes of one SMS; for an Indian number, its DLT registration (or an error)."""
    attributes = {"AWS.SNS.SMS.SMSType": _string("Transactional")}
    if not phone_e164.startswith(INDIA):
        return attributes
    template = dlt.template_for(kind)
    needed = {
        "sms_dlt_entity_id": dlt.entity_id,
        f"sms_dlt_{kind.value}_template_id": template,
        "sms_sender_id": dlt.sender_id,
    }
    missing = [f"MANTRA_{name.upper()}" for name, value in needed.items() if not value]
    if missing:
        raise DltNotConfigured(
            f"an SMS to an Indian number needs its DLT registration: set {', '.join(missing)}"
        )
    attributes["AWS.MN.SMS.EntityId"] = _string(dlt.entity_id)
    attributes["AWS.MN.SMS.TemplateId"] = _string(template)
    attributes["AWS.SNS.SMS.SenderID"] = _string(dlt.sender_id)
    return attributes


class QuotaCounter(Protocol):
    def take(self, counter: str, limit: int, expires_at_s: int) -> bool:
        """Count one if the counter is below ``limit``; False (and nothing counted) if it is not."""
        ...

    def give_back(self, counter: str) -> None: ...


@dataclass(frozen=True)
class Reservation:
    counter: str
    refused: str | None = None  # why not, as a delivery outcome ("skipped:...")


class SmsAllowance:
    """The plan's SMS alerts per tenant and IST month."""

    def __init__(self, counter: QuotaCounter, plans: PlanSource, clock: Clock) -> None:
        self._counter, self._plans, self._clock = counter, plans, clock

    def reserve(self, user: User) -> Reservation:
        now_ms = self._clock.now_ms()
        month = ist_from_ms(now_ms).strftime("%Y-%m")
        counter = f"sms#{user.tenant_id}#{month}"
        plan = self._plans.get(user.plan_id)
        limit = plan.limit(LIMIT_NAME) if plan else 0
        name = plan.name if plan else user.plan_id
        expires_at_s = now_ms // 1000 + COUNTER_DAYS * 86_400
        if limit <= 0 or not self._counter.take(counter, limit, expires_at_s):
            return Reservation(counter, f"skipped:the {name} plan's {limit} SMS alerts for {month} are used")
        return Reservation(counter)

    def release(self, reservation: Reservation) -> None:
        """The SMS did not go out: its place is free again."""
        if reservation.refused is None:
            self._counter.give_back(reservation.counter)
