"""Daily schedule -> reload the instrument master."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.market.instruments import demo_instruments
from mantra.observability import powertools
from mantra.settings import get_settings

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("instrument_refresh")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ScheduledInvocation.model_validate(event)
    count = get_container(get_settings()).instruments.put_many(i for i, _ in demo_instruments())
    logger.info("instrument master refreshed", extra={"instruments": count})
    return {"instruments": count}
