"""Outbox table stream -> event bus. A record that cannot be published is reported and retried alone."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.eventbus import OutboxEvent
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import OutboxRecord

logger, tracer, metrics = powertools("outbox_relay")
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams,
    model=OutboxRecord,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


def relay(record: OutboxRecord) -> None:
    if record.eventName != "INSERT" or not record.dynamodb.NewImage:
        return  # TTL deletions and updates carry nothing to publish
    image = record.dynamodb.NewImage
    event = OutboxEvent(event_id=image["event_id"], detail_type=image["detail_type"], detail=image["detail"])
    get_container(get_settings()).outbox_relay.relay([event])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=relay, processor=processor, context=context)
    )


def init() -> None:
    """Build the bus client before the first event (Lambda's init phase)."""
    _ = get_container(get_settings()).outbox_relay
