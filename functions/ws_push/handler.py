"""Quote, candle and notification table streams -> frames to the subscribed WebSocket connections.

Each record is parsed on its own (a malformed one is reported as a batch item failure); the batch is then
fanned out at once, so a batch costs one subscriber lookup per 100 changed topics. A failed fan-out (the
table unreachable) fails the batch, which is retried a finite number of times and then dead-lettered.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.domain import Candle, Notification, Quote
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.store.ws_repository import StreamImages
from mantra.ws.wiring import get_ws

logger, tracer, metrics = powertools("ws_push")
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


class _Batch:
    def __init__(self) -> None:
        self.quotes: list[Quote] = []
        self.candles: list[Candle] = []
        self.notifications: list[Notification] = []


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    images = StreamImages(settings)
    batch = _Batch()

    def collect(record: DynamoDBRecord) -> None:
        raw = record.raw_event
        change = images.parse(raw["eventSourceARN"], raw["eventName"], raw["dynamodb"])
        if isinstance(change, Quote):
            batch.quotes.append(change)
        elif isinstance(change, Candle):
            batch.candles.append(change)
        elif isinstance(change, Notification):
            batch.notifications.append(change)

    with processor(records=event["Records"], handler=collect):
        processor.process()
    response = processor.response()
    try:
        report = get_ws(settings).fanout.push(batch.quotes, batch.candles, batch.notifications)
    except Exception:
        logger.exception("fan-out failed; the batch is retried")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]
            ]
        }
    if report.frames:
        metrics.add_metric(name="ws_frames_sent", unit=MetricUnit.Count, value=report.sent)
        metrics.add_metric(name="ws_connections_gone", unit=MetricUnit.Count, value=report.gone)
        metrics.add_metric(name="ws_send_failures", unit=MetricUnit.Count, value=report.failed)
    return dict(response)


def init() -> None:
    """Build the repository and the Management API client before the first event (Lambda's init phase)."""
    _ = get_ws(get_settings()).fanout
