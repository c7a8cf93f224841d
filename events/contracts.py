"""Event contracts: the record and message shapes each trigger delivers, as pydantic models.

Handlers hand these to Powertools' BatchProcessor, so a record that does not parse is reported as a batch item
failure on its own and never sinks the records around it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel,
    DynamoDBStreamRecordModel,
    EventBridgeModel,
    KinesisDataStreamRecord,
    KinesisDataStreamRecordPayload,
    SqsRecordModel,
)
from mantra.alerts.dispatch import AlertTriggered
from mantra.alerts.plan_limits import PlanChanged
from mantra.alerts.scheduled import SignalDetected
from mantra.billing.records import Notice
from mantra.domain import Tick
from pydantic import BaseModel, Json


class TickPayload(KinesisDataStreamRecordPayload):
    data: Json[Tick]


class TickRecord(KinesisDataStreamRecord):
    kinesis: TickPayload


class OutboxImage(DynamoDBStreamChangedRecordModel):
    NewImage: dict[str, Any] | None = None


class OutboxRecord(DynamoDBStreamRecordModel):
    dynamodb: OutboxImage


class AlertTriggeredEvent(EventBridgeModel):
    # moto's EventBridge omits "account" when it forwards to SQS; nothing here depends on it
    account: str = ""
    detail: AlertTriggered


class AlertTriggeredMessage(SqsRecordModel):
    body: Json[AlertTriggeredEvent]


class BacktestRequested(BaseModel):
    event_id: str
    tenant_id: str
    job_id: str


class BacktestRequestedEvent(EventBridgeModel):
    account: str = ""
    detail: BacktestRequested


class BacktestRequestedMessage(SqsRecordModel):
    body: Json[BacktestRequestedEvent]


class SignalDetectedEvent(EventBridgeModel):
    account: str = ""
    detail: SignalDetected


class SignalDetectedMessage(SqsRecordModel):
    body: Json[SignalDetectedEvent]


class BillingNoticeEvent(EventBridgeModel):
    account: str = ""
    detail: Notice


class BillingNoticeMessage(SqsRecordModel):
    body: Json[BillingNoticeEvent]


class PlanChangedEvent(EventBridgeModel):
    account: str = ""
    detail: PlanChanged


class PlanChangedMessage(SqsRecordModel):
    body: Json[PlanChangedEvent]
