"""plan.changed events (EventBridge -> SQS) -> alerts over the new plan's limit paused, their users told."""

from __future__ import annotations

from mantra.container import get_container
from mantra.settings import get_settings
from mantra.sqs_function import SqsFunction

from events.contracts import PlanChangedMessage

function = SqsFunction("plan_limits", PlanChangedMessage)
logger = function.logger


def apply(record: PlanChangedMessage) -> None:
    report = get_container(get_settings()).plan_limits.apply(record.body.detail)
    logger.info("plan limits applied", extra=report.model_dump())


def init() -> None:
    """Build the repositories before the first event."""
    _ = get_container(get_settings()).plan_limits


lambda_handler = function.handler(apply)
