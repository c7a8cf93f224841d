"""The payload every catalog schedule delivers (set as the Scheduler target's input in infra/)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ScheduledInvocation(BaseModel):
    schedule: str = Field(min_length=1, examples=["scan-every-5-min"])
    scheduled_time: datetime = Field(examples=["2026-11-23T04:00:00Z"])


class BillingCycleInvocation(ScheduledInvocation):
    """The monthly schedule meters the month that just closed; ``period`` re-runs a given one."""

    period: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", examples=["2026-10"])
