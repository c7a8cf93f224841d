"""backtest.requested events (EventBridge -> SQS) -> run the job once and store its result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.container import get_container
from mantra.observability import powertools
from mantra.settings import get_settings

from events.contracts import BacktestRequestedMessage

logger, tracer, metrics = powertools("backtest_runner")
processor = BatchProcessor(
    event_type=EventType.SQS,
    model=BacktestRequestedMessage,
    raise_on_entire_batch_failure=False,
    logger=logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
)


def run(record: BacktestRequestedMessage) -> None:
    detail = record.body.detail
    status = get_container(get_settings()).backtests.run(detail.tenant_id, detail.job_id)
    logger.info("backtest job done", extra={"job_id": detail.job_id, "status": status.value})


def init() -> None:
    """Import the engine and build the service before the first job (Lambda's init phase)."""
    _ = get_container(get_settings()).backtests


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=run, processor=processor, context=context)
    )
