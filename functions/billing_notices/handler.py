"""billing.notice events (EventBridge -> SQS) -> inbox + e-mail to the tenant's users, once per notice."""

from __future__ import annotations

from mantra.container import get_container
from mantra.settings import get_settings
from mantra.sqs_function import SqsFunction

from events.contracts import BillingNoticeMessage

function = SqsFunction("billing_notices", BillingNoticeMessage)
logger = function.logger


def deliver(record: BillingNoticeMessage) -> None:
    report = get_container(get_settings()).billing_notices.deliver(record.body.detail)
    logger.info("billing notice delivered", extra=report.model_dump())


def init() -> None:
    """Build the repositories and the e-mail sender before the first event."""
    _ = get_container(get_settings()).billing_notices


lambda_handler = function.handler(deliver)
