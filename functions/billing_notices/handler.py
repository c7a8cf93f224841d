"""billing.notice events (EventBridge -> SQS) -> inbox + e-mail to the tenant's users, once per notice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import BillingNoticeMessage

logger, tracer, metrics = powertools("billing_notices")
processor = BatchProcessor(
    event_type=EventType.SQS,
    model=BillingNoticeMessage,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


def deliver(record: BillingNoticeMessage) -> None:
    report = get_container(get_settings()).billing_notices.deliver(record.body.detail)
    logger.info("billing notice delivered", extra=report.model_dump())


def init() -> None:
    """Build the repositories and the e-mail sender before the first event."""
    _ = get_container(get_settings()).billing_notices


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)
    )
