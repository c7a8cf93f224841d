"""The event shapes Lambda delivers for each trigger, built from what the stand-ins return."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "000000000000"


def kinesis_event(
    records: list[dict[str, Any]], stream_arn: str, shard_id: str, region: str
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/local-runtime",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for r in records
        ]
    }


def dynamodb_stream_event(records: list[dict[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    out = []
    for r in records:
        rec = dict(r)
        rec["awsRegion"] = region
        rec["eventSourceARN"] = stream_arn
        ddb = dict(rec.get("dynamodb", {}))
        if isinstance(ddb.get("ApproximateCreationDateTime"), datetime):
            ddb["ApproximateCreationDateTime"] = ddb["ApproximateCreationDateTime"].timestamp()
        rec["dynamodb"] = ddb
        if rec.get("eventName") not in STREAM_EVENT_NAMES:
            rec["eventName"] = _event_name_from_images(ddb)
        out.append(rec)
    return {"Records": out}


STREAM_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


def _event_name_from_images(ddb: dict[str, Any]) -> str:
    """DynamoDB Local names the records of transactional writes ``UNKNOWN_TO_SDK_VERSION`` (its SDK's enum
    fallback); DynamoDB sends INSERT/MODIFY/REMOVE for them like any write, so Lambda's shape is restored from
    the images the record carries (the tables stream NEW_AND_OLD_IMAGES)."""
    old, new = ddb.get("OldImage"), ddb.get("NewImage")
    if new and not old:
        return "INSERT"
    return "MODIFY" if new else "REMOVE"


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": m.get("Attributes", {}).get(
                        "ApproximateFirstReceiveTimestamp", "0"
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def schedule_event(name: str, at: datetime) -> dict[str, Any]:
    """What our EventBridge Scheduler targets send: the schedule's name and its scheduled time
    (``<aws.scheduler.scheduled-time>``), so a retried invocation knows which slot it is for."""
    return {"schedule": name, "scheduled_time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def http_event(method: str, path: str, headers: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
    """API Gateway HTTP API (payload format 2.0)."""
    try:
        text, b64 = body.decode(), False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(body).decode(), True
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "stage": "$default",
        },
        "body": text,
        "isBase64Encoded": b64,
    }


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, default=str)


def websocket_event(
    route_key: str,
    event_type: str,
    connection_id: str,
    *,
    connected_ms: int,
    domain: str,
    stage: str = "local",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    disconnect_code: int | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """API Gateway WebSocket API (Lambda proxy): CONNECT carries headers and the query string, MESSAGE the
    frame's body, DISCONNECT the close code."""
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_ms,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": (headers or {}).get("user-agent", "")},
        "requestId": uuid.uuid4().hex,
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": "local",
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if event_type == "MESSAGE":
        context["messageId"] = uuid.uuid4().hex
        event["body"] = body
        return event
    h = dict(headers or {})
    event["headers"] = h
    event["multiValueHeaders"] = {k: [v] for k, v in h.items()}
    if event_type == "CONNECT":
        event["queryStringParameters"] = dict(query) if query else None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    else:
        context["disconnectStatusCode"] = disconnect_code if disconnect_code is not None else 1005
        context["disconnectReason"] = ""
    return event
