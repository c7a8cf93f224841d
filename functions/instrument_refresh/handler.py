"""Daily schedule -> reload the instrument master from the configured broker dump (upsert; removes nothing)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.clock import ist_from_ms
from mantra.container import get_container
from mantra.market.instrument_master import load_dump, refresh
from mantra.observability import powertools
from mantra.settings import get_settings

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("instrument_refresh")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ScheduledInvocation.model_validate(event)
    settings = get_settings()
    container = get_container(settings)
    today = ist_from_ms(container.clock.now_ms()).date()
    report = refresh(container.instruments, load_dump(settings.instrument_source), today)
    logger.info("instrument master refreshed", extra=report.model_dump())
    metrics.add_metric(name="InstrumentsLoaded", unit=MetricUnit.Count, value=report.loaded)
    metrics.add_metric(name="InstrumentsWritten", unit=MetricUnit.Count, value=report.written)
    return {"instruments": report.loaded, **report.model_dump()}
