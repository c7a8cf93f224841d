"""Daily schedule -> reload the instrument master from the configured broker dumps (upsert; removes nothing).

``instrument_source`` may name several dumps, comma-separated (Angel's scrip master and Kite's instruments CSV):
every instrument then carries both brokers' tokens, and lot/tick disagreements are reported, not resolved.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.clock import ist_from_ms
from mantra.container import get_container
from mantra.market.instrument_master import load_dumps, refresh
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
    report = refresh(container.instruments, load_dumps(settings.instrument_source), today)
    logger.info("instrument master refreshed", extra=report.model_dump())
    if report.bad_rows or report.conflicts:
        # bad rows never stop the load, but someone should look: one warning with the first of each
        logger.warning(
            "instrument dumps had bad rows or broker disagreements",
            extra={"bad_rows": report.bad_rows, "issues": report.issues[:20],
                   "conflicts": report.conflicts, "conflict_list": report.conflict_list[:20]},
        )  # fmt: skip
    metrics.add_metric(name="InstrumentsLoaded", unit=MetricUnit.Count, value=report.loaded)
    metrics.add_metric(name="InstrumentsWritten", unit=MetricUnit.Count, value=report.written)
    metrics.add_metric(name="InstrumentBadRows", unit=MetricUnit.Count, value=report.bad_rows)
    metrics.add_metric(name="InstrumentConflicts", unit=MetricUnit.Count, value=report.conflicts)
    return {"instruments": report.loaded, **report.model_dump()}
