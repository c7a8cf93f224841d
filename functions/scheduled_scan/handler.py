"""EventBridge Scheduler -> the scheduled scan (saved scanners due now + the market-movers scan)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.clock import IST
from mantra.container import get_container
from mantra.market.calendar import is_trading_day
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
    day = invocation.scheduled_time.astimezone(IST).date()
    if not is_trading_day(day):
        logger.info("NSE holiday: scan skipped", extra={"date": day.isoformat()})
        return {"skipped": "holiday", "date": day.isoformat()}
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
