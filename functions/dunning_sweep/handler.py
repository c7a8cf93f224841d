"""Daily -> accounts past their dunning grace period move to the free plan (Stripe cancelled, e-mail sent)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("dunning_sweep")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ScheduledInvocation.model_validate(event)
    report = get_container(get_settings()).dunning.run()
    metrics.add_metric(name="dunning_downgrades", unit=MetricUnit.Count, value=len(report.downgraded))
    # due here but paid at Stripe: a payment webhook is late (or lost); the sweep cancelled nothing
    metrics.add_metric(name="dunning_paid_at_stripe", unit=MetricUnit.Count, value=len(report.paid_at_stripe))
    logger.info("dunning sweep", extra=report.model_dump())
    return report.model_dump(mode="json")
