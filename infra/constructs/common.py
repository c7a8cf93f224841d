"""Small helpers shared by the domain constructs: secure queues and nag acknowledgements."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

import jsii
from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct
from mantra.catalog import FunctionSpec

DLQ_RETENTION = Duration.days(14)

T = TypeVar("T")


def secure_queue(
    scope: Construct,
    construct_id: str,
    *,
    queue_name: str,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    max_receive_count: int = 5,
    retention_period: Duration | None = None,
) -> sqs.Queue:
    """An SQS queue encrypted at rest (SSE-SQS), TLS-only, optionally redriving to a dead-letter queue."""
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=(
            sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=max_receive_count)
            if dead_letter_queue is not None
            else None
        ),
    )


def dead_letter_queue(scope: Construct, construct_id: str, *, queue_name: str, what: str) -> sqs.Queue:
    """A terminal queue that holds failed work for inspection and redrive. Nothing consumes it."""
    queue = secure_queue(scope, construct_id, queue_name=queue_name, retention_period=DLQ_RETENTION)
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is itself the dead-letter/failure destination for {what}; "
        "a DLQ of a DLQ adds nothing (it is alarmed on ApproximateNumberOfMessagesVisible > 0).",
    )
    return queue


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on one construct, with the specific reason it is accepted."""
    if len(reason) < 20:
        raise ValueError(f"a suppression of {rule_id} needs a specific reason, got {reason!r}")
    # "AwsSolutions-IAM5[...]" is acknowledged as "AwsSolutions::AwsSolutions-IAM5[...]"
    pack = rule_id.split("-", 1)[0]
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{pack}::{rule_id}", reason=reason))


def lookup(items: dict[str, T], name: str, what: str) -> T:
    """``items[name]`` with a "did you mean" error naming the known keys."""
    try:
        return items[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(items), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown {what} {name!r}{hint} (known: {', '.join(sorted(items))})") from None


def unique(values: Iterable[str]) -> list[str]:
    """Order-preserving de-duplication."""
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class CatalogFunction:
    """A catalog ``FunctionSpec`` and the Lambda function (and its role) built from it."""

    spec: FunctionSpec
    function: lambda_.Function
    role: iam.Role


@jsii.implements(apigw.IAccessLogSettings)
class JsonAccessLogs:
    """API Gateway access logs as one JSON object per request (or WebSocket event) in a CloudWatch log group."""

    def __init__(self, log_group: logs.ILogGroup, log_format: str) -> None:
        self._destination = apigw.LogGroupLogDestination(log_group)
        self._format = log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(self._format)
