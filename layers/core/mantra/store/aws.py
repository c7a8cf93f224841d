"""boto3 adapters: Kinesis, EventBridge, SES, SNS, Secrets Manager. Endpoints come from AWS_ENDPOINT_URL_*."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from mantra.alerts.sms import DltRegistration, SmsKind, sms_attributes
from mantra.domain import Tick
from mantra.settings import Settings

_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=10)


_UNAVAILABLE = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)


def is_unavailable(exc: BaseException) -> bool:
    """The service could not be reached (refused, reset, timed out), as opposed to refusing the request: so
    retrying later can succeed. Looks through the causes PynamoDB and botocore wrap errors in."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, _UNAVAILABLE):
            return True
        cause = getattr(e, "cause", None)
        todo += [e.__cause__, e.__context__, cause if isinstance(cause, BaseException) else None]
    return False


@lru_cache(maxsize=16)
def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=_CONFIG)


class KinesisTickPublisher:
    """PutRecords in batches of 500 (the API limit); only the failed entries are retried, with backoff."""

    MAX_BATCH = 500

    def __init__(self, settings: Settings, max_attempts: int = 5, sleep: Any = time.sleep) -> None:
        self._stream = settings.name(settings.tick_stream)
        self._kinesis = client("kinesis", settings.region)
        self._max_attempts = max_attempts
        self._sleep = sleep

    def publish(self, ticks: Sequence[Tick]) -> int:
        sent = 0
        for i in range(0, len(ticks), self.MAX_BATCH):
            sent += self._put(list(ticks[i : i + self.MAX_BATCH]))
        return sent

    def _put(self, ticks: list[Tick]) -> int:
        # keyed by the instrument token: one instrument's ticks stay on one shard, in order
        pending = [{"Data": t.model_dump_json().encode(), "PartitionKey": t.token} for t in ticks]
        delivered = 0
        for attempt in range(self._max_attempts):
            resp = self._kinesis.put_records(StreamName=self._stream, Records=pending)
            failed = [rec for rec, res in zip(pending, resp["Records"], strict=True) if "ErrorCode" in res]
            delivered += len(pending) - len(failed)
            if not failed:
                return delivered
            pending = failed
            self._sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise RuntimeError(
            f"{len(pending)} ticks not accepted by Kinesis after {self._max_attempts} attempts"
        )


class EventBridgePublisher:
    """Puts events on the bus; returns the ids EventBridge did not accept so callers can retry them."""

    def __init__(self, settings: Settings) -> None:
        self._bus = settings.name(settings.event_bus)
        self._source = settings.event_source
        self._events = client("events", settings.region)

    def publish(self, events: Sequence[tuple[str, str, dict[str, object]]]) -> list[str]:
        failed: list[str] = []
        for i in range(0, len(events), 10):  # PutEvents takes at most 10 entries
            chunk = events[i : i + 10]
            entries = [
                {
                    "Source": self._source,
                    "DetailType": detail_type,
                    "Detail": json.dumps({**detail, "event_id": event_id}),
                    "EventBusName": self._bus,
                }
                for event_id, detail_type, detail in chunk
            ]
            resp = self._events.put_events(Entries=entries)
            for (event_id, _, _), res in zip(chunk, resp["Entries"], strict=True):
                if "ErrorCode" in res:
                    failed.append(event_id)
        return failed


class SesEmailSender:
    def __init__(self, settings: Settings) -> None:
        self._from = settings.email_from
        self._ses = client("sesv2", settings.region)

    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        body: dict[str, Any] = {"Text": {"Data": text, "Charset": "UTF-8"}}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        self._ses.send_email(
            FromEmailAddress=self._from,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": body,
                }
            },
        )


def read_secret(settings: Settings, name: str) -> dict[str, Any]:
    resp = client("secretsmanager", settings.region).get_secret_value(
        SecretId=f"mantra/{settings.stage}/{name}"
    )
    value: dict[str, Any] = json.loads(resp["SecretString"])
    return value


class SnsSender:
    """SMS and mobile push through SNS. The push platform application is found by name (ops create it with
    the FCM/APNs credentials; the local stand-in creates one at start-up)."""

    def __init__(self, settings: Settings) -> None:
        self._sns = client("sns", settings.region)
        self._app_name = settings.name("push")
        self._app_arn: str | None = None
        self._dlt = DltRegistration.from_settings(settings)

    def send_sms(self, phone_e164: str, text: str, kind: SmsKind = SmsKind.ALERT) -> str:
        """Transactional; to an Indian number with its DLT entity, template and sender id (mantra.alerts.sms)."""
        resp = self._sns.publish(
            PhoneNumber=phone_e164,
            Message=text[:1400],
            MessageAttributes=sms_attributes(phone_e164, kind, self._dlt),
        )
        return str(resp["MessageId"])

    def send_push(self, endpoint_arn: str, title: str, body: str) -> str:
        payload = {
            "default": body,
            "GCM": json.dumps({"notification": {"title": title, "body": body}}),
            "APNS": json.dumps({"aps": {"alert": {"title": title, "body": body}}}),
        }
        resp = self._sns.publish(TargetArn=endpoint_arn, MessageStructure="json", Message=json.dumps(payload))
        return str(resp["MessageId"])

    def application_arn(self) -> str:
        if self._app_arn is None:
            for page in self._sns.get_paginator("list_platform_applications").paginate():
                for app in page["PlatformApplications"]:
                    if app["PlatformApplicationArn"].endswith("/" + self._app_name):
                        self._app_arn = str(app["PlatformApplicationArn"])
            if self._app_arn is None:
                raise RuntimeError(f"no SNS platform application named {self._app_name}")
        return self._app_arn

    def register_device(self, token: str) -> str:
        resp = self._sns.create_platform_endpoint(PlatformApplicationArn=self.application_arn(), Token=token)
        return str(resp["EndpointArn"])

    def delete_device(self, endpoint_arn: str) -> None:
        self._sns.delete_endpoint(EndpointArn=endpoint_arn)
