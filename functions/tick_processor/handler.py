"""Kinesis ticks -> candles, quotes and price-alert triggers. Parse, call TickProcessor, report failures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.domain import Tick
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import TickRecord

logger, tracer, metrics = powertools("tick_processor")
processor = BatchProcessor(
    event_type=EventType.KinesisDataStreams,
    model=TickRecord,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ticks: list[Tick] = []

    def collect(record: TickRecord) -> None:
        ticks.append(record.kinesis.data)

    response = process_partial_response(
        event=event, record_handler=collect, processor=processor, context=context
    )
    failures = len(response.get("batchItemFailures", []))
    if failures:
        logger.warning("malformed tick records reported", extra={"failures": failures})
        metrics.add_metric(name="MalformedTicks", unit=MetricUnit.Count, value=failures)
    if ticks:
        summary = get_container(get_settings()).tick_processor.process(ticks)
        logger.info("tick batch applied", extra=summary.model_dump())
        metrics.add_metric(name="TicksApplied", unit=MetricUnit.Count, value=summary.applied)
        metrics.add_metric(name="AlertTriggers", unit=MetricUnit.Count, value=summary.triggers)
        if summary.late_ticks or summary.too_old:
            logger.warning("late ticks merged into closed candles", extra=summary.model_dump())
        metrics.add_metric(name="LateTicks", unit=MetricUnit.Count, value=summary.late_ticks)
        metrics.add_metric(name="TooOldTicks", unit=MetricUnit.Count, value=summary.too_old)
    return dict(response)


def init() -> None:
    """Build clients and the service before the first event (Lambda's init phase)."""
    container = get_container(get_settings())
    container.quotes.get_many(["__warmup__"])
    container.alerts.active_for_symbols(["__warmup__"])
    _ = container.tick_processor
