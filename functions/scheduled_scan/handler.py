"""EventBridge Scheduler -> the market-movers scan at the scheduled time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.market.movers import MoversScan
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.store.repositories import DynamoOutboxRepository

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("scheduled_scan")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = ScheduledInvocation.model_validate(event)
    container = get_container(get_settings())
    result = MoversScan(container.quotes, DynamoOutboxRepository()).run(invocation.scheduled_time)
    logger.info("scan finished", extra={"scan_id": result.scan_id, "hits": len(result.hits)})
    return result.model_dump(mode="json")
