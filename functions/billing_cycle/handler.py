"""Monthly -> meter the month that closed (trade, success, profit-share and strategy fees) into Stripe."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.billing.metering import previous_period
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.scheduled import BillingCycleInvocation

logger, tracer, metrics = powertools("billing_cycle")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = BillingCycleInvocation.model_validate(event)
    period = invocation.period or previous_period(int(invocation.scheduled_time.timestamp() * 1000))
    report = get_container(get_settings()).metering.run(period)
    metrics.add_metric(name="invoice_items_posted", unit=MetricUnit.Count, value=report.invoice_items_posted)
    metrics.add_metric(name="metering_failures", unit=MetricUnit.Count, value=len(report.failed))
    logger.info("billing cycle metered", extra=report.model_dump())
    return report.model_dump(mode="json")
