"""The shape every SQS-triggered function shares: Powertools logger, tracer and metrics, records handled one at
a time, and only the failed ones reported back (ReportBatchItemFailures), so a bad record never sinks the batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from mantra.observability import powertools

M = TypeVar("M", bound=SqsRecordModel)
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class SqsFunction(Generic[M]):
    def __init__(self, service: str, model: type[M]) -> None:
        self.logger, self.tracer, self.metrics = powertools(service)
        self.processor = BatchProcessor(
            event_type=EventType.SQS,
            model=model,
            raise_on_entire_batch_failure=False,
            logger=self.logger,  # type: ignore[arg-type]  # Powertools Logger quacks like logging.Logger
        )

    def handler(self, record_handler: Callable[[M], None]) -> LambdaHandler:
        @self.logger.inject_lambda_context
        @self.tracer.capture_lambda_handler
        @self.metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return dict(
                process_partial_response(
                    event=event, record_handler=record_handler, processor=self.processor, context=context
                )
            )

        return lambda_handler
