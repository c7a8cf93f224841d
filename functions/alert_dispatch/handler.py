"""alert.triggered events (EventBridge -> SQS) -> inbox and e-mail, once per event id."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.alerts.dispatch import AlertTriggered, DeliveryReport
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import AlertTriggeredMessage

logger, tracer, metrics = powertools("alert_dispatch")
# Covers SQS redelivery and EventBridge retries (24 h) with room to spare.
IDEMPOTENCY = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=3 * 24 * 3600)


@lru_cache
def deliver_once() -> Any:
    settings = get_settings()
    store = DynamoDBPersistenceLayer(table_name=settings.name("idempotency"))
    dispatcher = get_container(settings).dispatcher

    @idempotent_function(
        data_keyword_argument="event",
        config=IDEMPOTENCY,
        persistence_store=store,
        output_serializer=PydanticSerializer(DeliveryReport),
    )
    def deliver(event: AlertTriggered, inbox_posted: bool) -> DeliveryReport:
        return dispatcher.deliver(event, inbox_posted)

    return deliver


def handle(record: AlertTriggeredMessage) -> None:
    event = record.body.detail
    # the in-app inbox first, before the idempotency record: it is idempotent on its own (keyed by the trigger)
    posted = get_container(get_settings()).dispatcher.post_inbox(event)
    report = deliver_once()(event=event, inbox_posted=posted)
    logger.info("alert delivered", extra=report.model_dump())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    # a processor per invocation: it holds the batch's outcomes, and batches may run side by side (max_concurrency)
    processor = BatchProcessor(
        event_type=EventType.SQS,
        model=AlertTriggeredMessage,
        raise_on_entire_batch_failure=False,
        logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
    )
    return dict(
        process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
    )


def init() -> None:
    """Build the idempotency store, repositories and e-mail sender before the first event."""
    deliver_once()
    get_container(get_settings()).users.get("__warmup__")
