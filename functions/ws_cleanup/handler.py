"""Every 5 minutes -> close WebSocket connections past their lifetime, forget unreachable ones."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.ws.wiring import get_ws

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("ws_cleanup")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = ScheduledInvocation.model_validate(event)
    report = get_ws(get_settings()).cleanup.run()
    for name in ("expired", "unreachable", "orphans"):
        metrics.add_metric(name=f"ws_{name}", unit=MetricUnit.Count, value=getattr(report, name))
    logger.info(
        "websocket connections swept",
        extra={"scheduled_time": invocation.scheduled_time.isoformat(), **report.model_dump()},
    )
    return report.model_dump(mode="json")
