"""backtest.requested events (EventBridge -> SQS) -> run the job once and store its result."""

from __future__ import annotations

from mantra.container import get_container
from mantra.settings import get_settings
from mantra.sqs_function import SqsFunction

from events.contracts import BacktestRequestedMessage

function = SqsFunction("backtest_runner", BacktestRequestedMessage)
logger = function.logger


def run(record: BacktestRequestedMessage) -> None:
    detail = record.body.detail
    status = get_container(get_settings()).backtests.run(detail.tenant_id, detail.job_id)
    logger.info("backtest job done", extra={"job_id": detail.job_id, "status": status.value})


def init() -> None:
    """Import the engine and build the service before the first job (Lambda's init phase)."""
    _ = get_container(get_settings()).backtests


lambda_handler = function.handler(run)
