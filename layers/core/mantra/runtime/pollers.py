"""Event source mappings, locally: poll a stand-in, call the handler with Lambda's event shape, honour
ReportBatchItemFailures, finite retries and the failure destination, as the catalog declares them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from mantra.catalog import DynamoStreamTrigger, EventTrigger, FunctionSpec, KinesisTrigger, ScheduleTrigger
from mantra.runtime import lambda_events as ev
from mantra.runtime.cron import Cron
from mantra.runtime.invoke import invoke
from mantra.settings import Settings
from mantra.store.aws import client

log = logging.getLogger("mantra.runtime")

Invoker = Callable[[FunctionSpec, dict[str, Any]], Any]


def failures_queue(settings: Settings, function: str) -> str:
    return settings.name(f"{function}-failures")


class Poller(threading.Thread):
    idle_s = 0.1

    def __init__(self, settings: Settings, spec: FunctionSpec, invoker: Invoker = invoke) -> None:
        super().__init__(name=f"{type(self).__name__}:{spec.name}", daemon=True)
        self.settings, self.spec, self.invoker = settings, spec, invoker
        self.stopping = threading.Event()
        self.invocations = 0
        self.errors = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                self.errors += 1
                log.exception("%s: poll failed", self.name)
                busy = False
            if not busy:
                self.stopping.wait(self.idle_s)

    def poll_once(self) -> bool:
        raise NotImplementedError

    def call(self, event: dict[str, Any]) -> set[str]:
        """Invoke; return the item identifiers reported as failed (all of them if the handler raised)."""
        self.invocations += 1
        try:
            resp = self.invoker(self.spec, event)
        except Exception:
            log.exception("%s: handler raised; the whole batch counts as failed", self.spec.name)
            return {"*"}
        return {f["itemIdentifier"] for f in (resp or {}).get("batchItemFailures", [])}

    def dead_letter(self, reason: str, records: list[Any]) -> None:
        sqs = client("sqs", self.settings.region)
        url = sqs.get_queue_url(QueueName=failures_queue(self.settings, self.spec.name))["QueueUrl"]
        for r in records:
            sqs.send_message(
                QueueUrl=url, MessageBody=json.dumps({"reason": reason, "record": r}, default=str)
            )
        log.warning(
            "%s: %d record(s) sent to the failure destination: %s", self.spec.name, len(records), reason
        )


class _Checkpoints:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, seq: str) -> None:
        self.data[key] = seq
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        tmp.replace(self.path)


class KinesisPoller(Poller):
    """In-order per shard; a failed record is retried from its sequence number ``retry_attempts`` times, then
    dead-lettered so the shard moves on. Given ``shard_id``, it serves that shard alone: like Lambda, the local
    runtime runs one of these per shard so shards are processed concurrently."""

    def __init__(
        self,
        settings: Settings,
        spec: FunctionSpec,
        trigger: KinesisTrigger,
        checkpoint_dir: Path,
        invoker: Invoker = invoke,
        shard_id: str | None = None,
    ) -> None:
        super().__init__(settings, spec, invoker)
        self.trigger = trigger
        self.shard_id = shard_id
        self.stream = settings.name(trigger.stream)
        self.kinesis = client("kinesis", settings.region)
        suffix = f"-{shard_id}" if shard_id else ""
        self.checkpoints = _Checkpoints(checkpoint_dir / f"kinesis-{spec.name}{suffix}.json")
        if shard_id:
            self.name = f"KinesisPoller:{spec.name}:{shard_id}"
        self.iterators: dict[str, str] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.attempts: dict[str, int] = {}
        self.arn = ""

    def _init_shards(self) -> None:
        desc = self.kinesis.describe_stream(StreamName=self.stream)["StreamDescription"]
        self.arn = desc["StreamARN"]
        for shard in desc["Shards"]:
            sid = shard["ShardId"]
            if sid in self.iterators or (self.shard_id and sid != self.shard_id):
                continue
            seq = self.checkpoints.get(sid)
            kwargs: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": seq}
                if seq
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            self.iterators[sid] = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=sid, **kwargs
            )["ShardIterator"]
            self.pending[sid] = []

    def poll_once(self) -> bool:
        if not self.iterators:
            self._init_shards()
        busy = False
        for sid in list(self.iterators):
            records = self.pending[sid]
            if not records:
                resp = self.kinesis.get_records(
                    ShardIterator=self.iterators[sid], Limit=self.trigger.batch_size
                )
                self.iterators[sid] = resp["NextShardIterator"]
                records = resp["Records"]
            if not records:
                continue
            busy = True
            self._deliver(sid, records)
        return busy

    def _deliver(self, sid: str, records: list[dict[str, Any]]) -> None:
        failed = self.call(ev.kinesis_event(records, self.arn, sid, self.settings.region))
        seqs = [r["SequenceNumber"] for r in records]
        if not failed:
            self.checkpoints.set(sid, seqs[-1])
            self.pending[sid], self.attempts[sid] = [], 0
            return
        # Lambda resumes from the lowest failed sequence number; everything before it is done.
        known = [seqs.index(s) for s in failed if s in seqs]
        # an identifier we did not send (or a raised handler) fails the whole batch, as Lambda treats it
        first = min(known) if known and "*" not in failed and len(known) == len(failed) else 0
        if first > 0:
            self.checkpoints.set(sid, seqs[first - 1])
        rest = records[first:]
        self.attempts[sid] = self.attempts.get(sid, 0) + 1
        if self.attempts[sid] > self.trigger.retry_attempts:
            bad = rest[0]
            self.dead_letter(
                f"retries exhausted after {self.trigger.retry_attempts} attempts",
                [
                    {
                        "shard": sid,
                        "sequenceNumber": bad["SequenceNumber"],
                        "partitionKey": bad["PartitionKey"],
                        "data": bad["Data"].decode(errors="replace"),
                    }
                ],
            )
            self.checkpoints.set(sid, bad["SequenceNumber"])
            rest, self.attempts[sid] = rest[1:], 0
        self.pending[sid] = rest


class DynamoStreamPoller(Poller):
    def __init__(
        self,
        settings: Settings,
        spec: FunctionSpec,
        trigger: DynamoStreamTrigger,
        checkpoint_dir: Path,
        invoker: Invoker = invoke,
    ) -> None:
        super().__init__(settings, spec, invoker)
        self.trigger = trigger
        self.table = settings.name(trigger.table)
        self.streams = client("dynamodbstreams", settings.region)
        self.checkpoints = _Checkpoints(checkpoint_dir / f"ddbstream-{spec.name}.json")
        self.iterators: dict[str, str | None] = {}
        self.arn = ""
        self.attempts = 0
        self._refreshed = 0.0
        self._last_poll = 0.0

    def _refresh(self) -> None:
        if not self.arn:
            self.arn = client("dynamodb", self.settings.region).describe_table(TableName=self.table)["Table"][
                "LatestStreamArn"
            ]
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            sid = shard["ShardId"]
            if sid in self.iterators:
                continue
            seq = self.checkpoints.get(sid)
            kwargs: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seq}
                if seq
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            self.iterators[sid] = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=sid, **kwargs)[
                "ShardIterator"
            ]
        self._refreshed = time.monotonic()

    def poll_once(self) -> bool:
        # Lambda reads a DynamoDB stream about 4 times a second, and waits out a batching window if set
        pause = max(0.25, float(self.trigger.max_batching_window_s)) - (time.monotonic() - self._last_poll)
        if pause > 0:
            self.stopping.wait(pause)
        self._last_poll = time.monotonic()
        if not self.iterators or time.monotonic() - self._refreshed > 10:
            self._refresh()
        busy = False
        for sid, it in list(self.iterators.items()):
            if it is None:
                continue  # closed shard, fully read
            try:
                resp = self.streams.get_records(ShardIterator=it, Limit=self.trigger.batch_size)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in (
                    "TrimmedDataAccessException",
                    "ExpiredIteratorException",
                ):
                    raise
                del self.iterators[sid]  # re-open from the checkpoint on the next refresh
                self._refreshed = 0.0
                continue
            records = resp["Records"]
            if records:
                busy = True
                failed = self.call(ev.dynamodb_stream_event(records, self.arn, self.settings.region))
                if failed:
                    self.attempts += 1
                    if self.attempts <= self.trigger.retry_attempts:
                        # re-read from the last checkpoint on the next poll
                        seq = self.checkpoints.get(sid)
                        kwargs: dict[str, Any] = (
                            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seq}
                            if seq
                            else {"ShardIteratorType": "TRIM_HORIZON"}
                        )
                        self.iterators[sid] = self.streams.get_shard_iterator(
                            StreamArn=self.arn, ShardId=sid, **kwargs
                        )["ShardIterator"]
                        continue
                    self.dead_letter("retries exhausted", records)
                self.attempts = 0
                self.checkpoints.set(sid, records[-1]["dynamodb"]["SequenceNumber"])
            self.iterators[sid] = resp.get("NextShardIterator")
        return busy


class SqsPoller(Poller):
    """Messages the handler reports as failed stay in the queue and come back after the visibility timeout;
    the queue's redrive policy moves them to its dead-letter queue after ``max_receive_count`` tries."""

    idle_s = 0.0

    def __init__(
        self,
        settings: Settings,
        spec: FunctionSpec,
        trigger: EventTrigger,
        invoker: Invoker = invoke,
        worker: int = 0,
    ):
        super().__init__(settings, spec, invoker)
        self.trigger = trigger
        if worker:
            self.name = f"SqsPoller:{spec.name}:{worker}"
        self.sqs = client("sqs", settings.region)
        self.url = ""
        self.arn = ""

    def poll_once(self) -> bool:
        if not self.url:
            self.url = self.sqs.get_queue_url(QueueName=self.settings.name(self.trigger.queue))["QueueUrl"]
            self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        resp = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=self.trigger.batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            return False
        failed = self.call(ev.sqs_event(messages, self.arn, self.settings.region))
        done = [m for m in messages if "*" not in failed and m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return True


class Scheduler(Poller):
    """Fires each ScheduleTrigger at the minutes its cron matches, in its time zone."""

    def __init__(
        self,
        settings: Settings,
        spec: FunctionSpec,
        trigger: ScheduleTrigger,
        invoker: Invoker = invoke,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(settings, spec, invoker)
        self.trigger = trigger
        self.cron = Cron.parse(trigger.cron, trigger.timezone)
        self.now = now
        self.next_fire = self.cron.next_after(now())

    def poll_once(self) -> bool:
        if self.now() < self.next_fire:
            self.stopping.wait(min(1.0, (self.next_fire - self.now()).total_seconds()))
            return True
        at, self.next_fire = self.next_fire, self.cron.next_after(self.next_fire)
        log.info("schedule %s fired for %s", self.trigger.name, self.spec.name)
        self.call(ev.schedule_event(self.trigger.name, at))
        return True
