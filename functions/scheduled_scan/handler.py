"""EventBridge Scheduler -> the scheduled scan (saved scanners due now + the market-movers scan)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.clock import IST
from mantra.container import get_container
from mantra.market.calendar import default_calendar
from mantra.market.movers import MoversScan
from mantra.observability import powertools
from mantra.scans.scheduled import run_scheduled
from mantra.settings import get_settings

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("scheduled_scan")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = ScheduledInvocation.model_validate(event)
    local = invocation.scheduled_time.astimezone(IST)
    windows = default_calendar().sessions(local.date())
    if not windows:
        logger.info("no NSE session today: scan skipped", extra={"date": local.date().isoformat()})
        return {"skipped": "holiday", "date": local.date().isoformat()}
    # the schedule fires every minute 09:00-19:59 IST every day; work runs from 15 minutes before the day's
    # first window (pre-open) to 30 minutes after its last (weekend sessions and Muhurat evenings included)
    opens = datetime.combine(local.date(), windows[0].open, tzinfo=IST) - timedelta(minutes=15)
    closes = datetime.combine(local.date(), windows[-1].close, tzinfo=IST) + timedelta(minutes=30)
    if not opens <= local < closes:
        return {"skipped": "outside the session", "date": local.date().isoformat()}
    container = get_container(get_settings())
    result = run_scheduled(
        invocation.scheduled_time, MoversScan(container.quotes, container.outbox), container.scans
    )
    # expression and pattern alerts are checked on the same schedule, after the scanners
    rules = container.scheduled_alerts.run(invocation.scheduled_time)
    options = container.option_alerts.run(invocation.scheduled_time)
    logger.info(
        "scheduled alert rules checked", extra={**rules.model_dump(), "options": options.model_dump()}
    )
    logger.info(
        "scan finished",
        extra={
            "movers_hits": len(result.movers.hits) if result.movers else None,
            "scanners_run": result.saved.scanners_run,
            "signals": result.saved.signals,
            "failed": list(result.saved.failed),
        },
    )
    return {
        **result.model_dump(mode="json"),
        "alert_rules": rules.model_dump(),
        "option_rules": options.model_dump(),
    }
