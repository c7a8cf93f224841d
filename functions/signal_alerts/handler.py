"""signal.detected events (EventBridge -> SQS) -> alerts that follow that scanner's new hits."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import SignalDetectedMessage

logger, tracer, metrics = powertools("signal_alerts")
processor = BatchProcessor(
    event_type=EventType.SQS,
    model=SignalDetectedMessage,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


def match(record: SignalDetectedMessage) -> None:
    fired = get_container(get_settings()).signal_alerts.match(record.body.detail)
    logger.info("signal matched", extra={"event_id": record.body.detail.event_id, "fired": fired})


def init() -> None:
    """Build the repositories before the first event (Lambda's init phase)."""
    _ = get_container(get_settings()).signal_alerts


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=match, processor=processor, context=context)
    )
