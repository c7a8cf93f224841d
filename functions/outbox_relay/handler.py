"""Outbox table stream -> event bus, one PutEvents per ten rows. A record that cannot be read or published is
reported alone (its neighbours go through); rows their writer already published are skipped."""

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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    inserted: dict[str, OutboxEvent] = {}  # stream sequence number -> event

    def collect(record: OutboxRecord) -> None:
        if record.eventName != "INSERT" or not record.dynamodb.NewImage:
            return  # TTL deletions and the publish marks carry nothing to publish
        image = record.dynamodb.NewImage
        inserted[str(record.dynamodb.SequenceNumber)] = OutboxEvent(
            event_id=image["event_id"], detail_type=image["detail_type"], detail=image["detail"]
        )

    response = process_partial_response(
        event=event, record_handler=collect, processor=processor, context=context
    )
    failures = list(response.get("batchItemFailures", []))
    refused = set(get_container(get_settings()).outbox_relay.relay(list(inserted.values())))
    if refused:
        logger.warning(
            "the bus refused events; their records are reported", extra={"event_ids": sorted(refused)}
        )
        failures += [{"itemIdentifier": seq} for seq, e in inserted.items() if e.event_id in refused]
    return {"batchItemFailures": failures}


def init() -> None:
    """Build the bus client before the first event (Lambda's init phase)."""
    _ = get_container(get_settings()).outbox_relay
