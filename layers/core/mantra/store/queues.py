"""Dead-letter queues: what is in them, and putting messages back on their source queue."""

from __future__ import annotations

from dataclasses import dataclass

from mantra.catalog import FUNCTIONS, DynamoStreamTrigger, KinesisTrigger, event_queues
from mantra.settings import Settings
from mantra.store.aws import client


@dataclass(frozen=True)
class DeadLetters:
    name: str
    source: str | None  # the queue it can be redriven to; None for stream failure records
    messages: int


def dead_letter_queues(settings: Settings) -> list[DeadLetters]:
    sqs = client("sqs", settings.region)
    pairs: list[tuple[str, str | None]] = [(f"{q}-dlq", q) for q in event_queues()]
    pairs += [
        (f"{f.name}-failures", None)
        for f in FUNCTIONS
        if any(isinstance(t, KinesisTrigger | DynamoStreamTrigger) for t in f.triggers)
    ]
    out = []
    for name, source in pairs:
        url = sqs.get_queue_url(QueueName=settings.name(name))["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        out.append(DeadLetters(name, source, int(attrs["Attributes"]["ApproximateNumberOfMessages"])))
    return out


def redrive(settings: Settings, dlq: str, limit: int = 1000) -> int:
    """Move up to ``limit`` messages from ``dlq`` back to its source queue. Returns how many moved."""
    known = {d.name: d for d in dead_letter_queues(settings)}
    if dlq not in known:
        raise ValueError(f"unknown dead-letter queue {dlq!r}; known: {', '.join(known)}")
    source = known[dlq].source
    if source is None:
        raise ValueError(
            f"{dlq} holds stream records that failed to parse; inspect them, they cannot be redriven"
        )
    sqs = client("sqs", settings.region)
    dlq_url = sqs.get_queue_url(QueueName=settings.name(dlq))["QueueUrl"]
    src_url = sqs.get_queue_url(QueueName=settings.name(source))["QueueUrl"]
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - moved),
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not batch:
            break
        for m in batch:
            sqs.send_message(QueueUrl=src_url, MessageBody=m["Body"])  # send first: nothing is lost
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved
