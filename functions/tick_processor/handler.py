"""Kinesis ticks -> candles, quotes and price-alert triggers. Parse, call TickProcessor, report failures."""

from __future__ import annotations

import binascii
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.domain import Tick
from mantra.observability import powertools
from mantra.outage import wait_out_outage
from mantra.settings import get_settings
from mantra.store.aws import is_unavailable
from pydantic import TypeAdapter, ValidationError

from events.contracts import TickRecord

logger, tracer, metrics = powertools("tick_processor")
ANSWER_MARGIN_S = 10.0  # of the function's timeout, kept to answer after waiting out an outage
TICKS = TypeAdapter(list[Tick])
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
    ticks = parse_all(event)
    if ticks is not None:
        response: dict[str, Any] = {"batchItemFailures": []}
    else:  # some record does not parse: record by record, so only the bad ones are reported
        ticks = []

        def collect(record: TickRecord) -> None:
            ticks.append(record.kinesis.data)

        response = dict(
            process_partial_response(
                event=event, record_handler=collect, processor=processor, context=context
            )
        )
    failures = len(response.get("batchItemFailures", []))
    if failures:
        logger.warning("malformed tick records reported", extra={"failures": failures})
        metrics.add_metric(name="MalformedTicks", unit=MetricUnit.Count, value=failures)
    if ticks:
        service = get_container(get_settings()).tick_processor
        # DynamoDB unreachable for a while is no reason to discard good ticks: wait it out while there is time
        # (process() is idempotent), keeping the event source mapping's few retries for real failures
        budget_s = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_S
        summary = wait_out_outage(lambda: service.process(ticks), is_unavailable, budget_s)
        logger.info("tick batch applied", extra=summary.model_dump())
        metrics.add_metric(name="TicksApplied", unit=MetricUnit.Count, value=summary.applied)
        metrics.add_metric(name="AlertTriggers", unit=MetricUnit.Count, value=summary.triggers)
        if summary.late_ticks:
            logger.warning("late ticks merged into closed candles", extra=summary.model_dump())
        if summary.too_old:
            # beyond the window of remembered sequences: not applied (a duplicate cannot be ruled out)
            logger.warning(
                "ticks too old to tell from duplicates were not applied", extra=summary.model_dump()
            )
        metrics.add_metric(name="LateTicks", unit=MetricUnit.Count, value=summary.late_ticks)
        metrics.add_metric(name="TooOldTicks", unit=MetricUnit.Count, value=summary.too_old)
    return response


def parse_all(event: dict[str, Any]) -> list[Tick] | None:
    """Every record's tick in one parse (a JSON array of the records' payloads), or None if any record is not
    exactly one valid tick. Parsing record by record through Powertools' models was most of the handler's time."""
    try:
        records = event["Records"]
        payloads = [binascii.a2b_base64(r["kinesis"]["data"]) for r in records]
        ticks = TICKS.validate_json(b"[" + b",".join(payloads) + b"]")
    except (KeyError, TypeError, binascii.Error, ValidationError):
        return None
    return ticks if len(ticks) == len(records) else None


def init() -> None:
    """Build clients and the service before the first event (Lambda's init phase)."""
    container = get_container(get_settings())
    container.quotes.get_many(["__warmup__"])
    container.alerts.active_for_symbols(["__warmup__"])
    _ = container.tick_processor
