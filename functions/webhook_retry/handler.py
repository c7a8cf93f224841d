"""Every minute -> send the webhook attempts that are due (each claimed before it is sent)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("webhook_retry")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = ScheduledInvocation.model_validate(event)
    report = get_container(get_settings()).webhook_retry.run()
    for outcome, count in report.outcomes.items():
        metrics.add_metric(name=f"webhook_{outcome}", unit=MetricUnit.Count, value=count)
    logger.info(
        "webhook retries sent",
        extra={"scheduled_time": invocation.scheduled_time.isoformat(), "due": report.due, **report.outcomes},
    )
    return report.model_dump(mode="json")
