"""The Kinesis tick stream(s) and the stream consumers (Kinesis and DynamoDB Streams event sources)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from mantra.catalog import DynamoStreamTrigger, KinesisTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction, dead_letter_queue, lookup
from infra.constructs.data import DataTables


class MarketStreams(Construct):
    """On-demand Kinesis data streams, encrypted at rest with the AWS-managed ``aws/kinesis`` key."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, names: Iterable[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.streams: dict[str, kinesis.Stream] = {
            name: kinesis.Stream(
                self,
                name,
                stream_name=settings.name(name),
                stream_mode=kinesis.StreamMode.ON_DEMAND,
                encryption=kinesis.StreamEncryption.MANAGED,  # aws/kinesis, as AwsSolutions-KDS3 asks
                retention_period=Duration.hours(24),
            )
            for name in names
        }

    def stream(self, name: str) -> kinesis.Stream:
        return lookup(self.streams, name, "stream")

    def grant_write(self, grantee: iam.IGrantable) -> None:
        for stream in self.streams.values():
            stream.grant_write(grantee)


class StreamConsumers(Construct):
    """Kinesis and DynamoDB Streams event sources for every function whose catalog triggers ask for one.

    Each mapping reports batch item failures, retries a finite number of times, bisects failing batches and
    sends what still fails to an encrypted SQS failure queue (one per function and source).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[str, CatalogFunction],
        streams: MarketStreams,
        data: DataTables,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failure_queues: dict[str, sqs.Queue] = {}
        for name, cf in functions.items():
            for trigger in cf.spec.triggers:
                if isinstance(trigger, KinesisTrigger):
                    dlq = self._failure_queue(settings, name, f"kinesis-{trigger.stream}")
                    cf.function.add_event_source(
                        sources.KinesisEventSource(
                            streams.stream(trigger.stream),
                            starting_position=lambda_.StartingPosition.LATEST,
                            batch_size=trigger.batch_size,
                            max_batching_window=Duration.seconds(trigger.max_batching_window_s),
                            retry_attempts=trigger.retry_attempts,
                            bisect_batch_on_error=trigger.bisect_on_error,
                            parallelization_factor=trigger.parallelization_factor,
                            report_batch_item_failures=True,
                            on_failure=sources.SqsDlq(dlq),
                        )
                    )
                elif isinstance(trigger, DynamoStreamTrigger):
                    table = data.table(trigger.table)
                    if table.table_stream_arn is None:
                        raise ValueError(
                            f"{name} reads the stream of table {trigger.table!r}, "
                            "but its model declares no stream_view_type"
                        )
                    dlq = self._failure_queue(settings, name, f"ddb-{trigger.table}")
                    cf.function.add_event_source(
                        sources.DynamoEventSource(
                            table,
                            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                            batch_size=trigger.batch_size,
                            retry_attempts=trigger.retry_attempts,
                            bisect_batch_on_error=trigger.bisect_on_error,
                            report_batch_item_failures=True,
                            on_failure=sources.SqsDlq(dlq),
                            max_batching_window=Duration.seconds(trigger.max_batching_window_s)
                            if trigger.max_batching_window_s
                            else None,
                        )
                    )

    def _failure_queue(self, settings: Settings, function_name: str, source: str) -> sqs.Queue:
        key = f"{function_name}-{source}"
        queue = dead_letter_queue(
            self,
            f"{key}-failures",
            queue_name=settings.name(f"{key}-failures"),
            what=f"the {source} event source mapping of {function_name}",
        )
        self.failure_queues[key] = queue
        return queue
