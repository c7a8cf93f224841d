"""signal.detected events (EventBridge -> SQS) -> alerts that follow that scanner's new hits."""

from __future__ import annotations

from mantra.container import get_container
from mantra.settings import get_settings
from mantra.sqs_function import SqsFunction

from events.contracts import SignalDetectedMessage

function = SqsFunction("signal_alerts", SignalDetectedMessage)
logger = function.logger


def match(record: SignalDetectedMessage) -> None:
    fired = get_container(get_settings()).signal_alerts.match(record.body.detail)
    logger.info("signal matched", extra={"event_id": record.body.detail.event_id, "fired": fired})


def init() -> None:
    """Build the repositories before the first event (Lambda's init phase)."""
    _ = get_container(get_settings()).signal_alerts


lambda_handler = function.handler(match)
