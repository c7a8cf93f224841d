"""The scheduled scan: every minute in market hours, the saved scanners due now, and the market-movers scan on
every fifth minute (its cadence before saved scanners existed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from mantra.market.movers import MoversScan, ScanResult
from mantra.scans.models import ScheduledRun
from mantra.scans.service import ScanService

MOVERS_EVERY_MIN = 5


class ScheduledScanResult(BaseModel):
    scheduled_for: datetime
    movers: ScanResult | None
    saved: ScheduledRun


def run_scheduled(scheduled_for: datetime, movers: MoversScan, scans: ScanService) -> ScheduledScanResult:
    movers_result = movers.run(scheduled_for) if scheduled_for.minute % MOVERS_EVERY_MIN == 0 else None
    return ScheduledScanResult(
        scheduled_for=scheduled_for, movers=movers_result, saved=scans.run_due(scheduled_for)
    )
