"""The event bus, and for each catalog ``EventTrigger`` a rule -> SQS queue (with DLQ) -> Lambda."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from mantra.catalog import EventTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction, dead_letter_queue, secure_queue

# AWS guidance: an SQS event source's visibility timeout is at least six times the function timeout.
VISIBILITY_FACTOR = 6


class EventRouting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self.bus = events.EventBus(self, "Bus", event_bus_name=settings.name(settings.event_bus))
        self.bus.archive(
            "Archive",
            archive_name=settings.name(settings.event_bus),
            description="Every Trade Mantra event, kept for replay",
            event_pattern=events.EventPattern(source=[settings.event_source]),
            retention=Duration.days(30),
        )
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}

    def connect(self, functions: Mapping[str, CatalogFunction]) -> None:
        """Wire every ``EventTrigger`` of the catalog functions."""
        for name, cf in functions.items():
            for trigger in cf.spec.triggers:
                if isinstance(trigger, EventTrigger):
                    self._subscribe(cf, trigger, name)

    def _subscribe(self, cf: CatalogFunction, trigger: EventTrigger, function_name: str) -> None:
        settings = self._settings
        if trigger.queue in self.queues:
            raise ValueError(
                f"queue {trigger.queue!r} is consumed by more than one function ({function_name})"
            )
        dlq = dead_letter_queue(
            self,
            f"{trigger.queue}-dlq",
            queue_name=settings.name(f"{trigger.queue}-dlq"),
            what=(
                f"the {trigger.queue} queue "
                f"(messages {function_name} failed {trigger.max_receive_count} times)"
            ),
        )
        queue = secure_queue(
            self,
            trigger.queue,
            queue_name=settings.name(trigger.queue),
            visibility_timeout=Duration.seconds(VISIBILITY_FACTOR * cf.spec.timeout_s),
            dead_letter_queue=dlq,
            max_receive_count=trigger.max_receive_count,
        )
        events.Rule(
            self,
            f"{trigger.queue}-rule",
            rule_name=settings.name(trigger.queue),
            description=f"{', '.join(trigger.detail_types)} -> {trigger.queue} -> {function_name}",
            event_bus=self.bus,
            event_pattern=events.EventPattern(
                source=[settings.event_source], detail_type=list(trigger.detail_types)
            ),
            targets=[targets.SqsQueue(queue, dead_letter_queue=dlq, retry_attempts=8)],
        )
        cf.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=trigger.batch_size,
                report_batch_item_failures=True,
                max_concurrency=trigger.max_concurrency,
            )
        )
        self.queues[trigger.queue] = queue
        self.dead_letter_queues[trigger.queue] = dlq
