"""Evening schedule -> load the session's end-of-day reports from the exchange (1d candles, F&O contracts), once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.clock import IST
from mantra.container import get_container
from mantra.market.calendar import default_calendar
from mantra.market.eod import EodLoader
from mantra.market.eod_ingest import EodIngest, report_source
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.store.corporate_action_repository import DynamoCorporateActions
from mantra.store.fo_repository import DynamoEqHistory, DynamoFoStore
from mantra.store.history_repository import DynamoHistoryLoads

from events.scheduled import ScheduledInvocation

logger, tracer, metrics = powertools("eod_ingest")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    invocation = ScheduledInvocation.model_validate(event)
    day = invocation.scheduled_time.astimezone(IST).date()
    if not default_calendar().sessions(day):  # a weekend session or a Muhurat evening has a report too
        logger.info("no session: nothing to ingest", extra={"date": day.isoformat()})
        return {"skipped": "no session", "date": day.isoformat()}
    settings = get_settings()
    container = get_container(settings)
    factors = DynamoCorporateActions()
    loader = EodLoader(container.candles, fo=DynamoFoStore(), eq=DynamoEqHistory(), factors=factors)
    source = report_source(settings.eod_source)
    ingest = EodIngest(loader, source, DynamoHistoryLoads(), fo=True, actions=True)
    result = ingest.run(day, container.clock.now_ms())
    for load in result.loaded:
        for problem in load.problems[:50]:
            logger.warning("row skipped", extra={"problem": str(problem)})
        if load.error:
            logger.error("report not loaded", extra={"report": load.path, "error": load.error})
    logger.info(
        "eod ingest finished",
        extra={
            "date": day.isoformat(),
            "candles": result.candles,
            "already_loaded": result.already_loaded,
            "missing": result.missing,
        },
    )
    metrics.add_metric(name="EodCandlesLoaded", unit=MetricUnit.Count, value=result.candles)
    metrics.add_metric(
        name="EodContractsLoaded", unit=MetricUnit.Count, value=sum(f.contracts for f in result.loaded)
    )
    return {
        "date": day.isoformat(),
        "candles": result.candles,
        "loaded": [f.path for f in result.loaded if f.error is None],
        "failed": [f.path for f in result.loaded if f.error is not None],
        "already_loaded": result.already_loaded,
        "missing": result.missing,
    }
