"""Alarms to an encrypted ops topic: Lambda errors, stream iterator age, dead-letter queues, the feed task."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from mantra.catalog import DynamoStreamTrigger, KinesisTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction

_AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
ITERATOR_AGE_THRESHOLD_MS = 60_000  # ticks older than a minute make candles and price alerts late


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[str, CatalogFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        services: Mapping[str, ecs.FargateService],
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        key = kms.Key(
            self,
            "Key",
            description=f"Trade Mantra {settings.stage}: ops alarm topic encryption",
            enable_key_rotation=True,
        )
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        key.grant(cloudwatch_principal, "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self,
            "Ops",
            topic_name=settings.name("ops-alarms"),
            display_name="Trade Mantra ops alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.topic.stack.account}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, cf in functions.items():
            self._alarm(
                f"{name}-errors",
                cf.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description=f"Lambda {cf.function.function_name} reported errors",
            )
            if any(isinstance(t, KinesisTrigger | DynamoStreamTrigger) for t in cf.spec.triggers):
                self._alarm(
                    f"{name}-iterator-age",
                    cf.function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum"),
                    threshold=ITERATOR_AGE_THRESHOLD_MS,
                    evaluation_periods=3,
                    description=f"{name} is falling behind its stream (IteratorAge > 60 s for 3 minutes)",
                )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}-dlq-visible",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description=f"Messages are waiting in the dead-letter queue {name}: inspect and redrive",
            )
        for name, service in services.items():
            self._alarm(
                f"{name}-not-running",
                cloudwatch.Metric(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions_map={
                        "ClusterName": service.cluster.cluster_name,
                        "ServiceName": service.service_name,
                    },
                    period=Duration.minutes(1),
                    statistic="Minimum",
                ),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=3,
                missing=cloudwatch.TreatMissingData.BREACHING,
                description=f"The {name} Fargate task is not running: no market data is flowing",
            )

    def _alarm(
        self,
        key: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = _AT_LEAST,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            key,
            alarm_name=self._settings.name(key),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[key] = alarm
