"""KinesisPoller._deliver: partial batch failures, finite retries, dead-lettering, checkpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from mantra.catalog import FunctionSpec, KinesisTrigger
from mantra.runtime.pollers import KinesisPoller
from mantra.settings import Settings

SHARD = "shardId-000000000000"
SPEC = FunctionSpec(
    name="tick_processor",
    handler="functions.tick_processor.handler:lambda_handler",
    description="test",
    triggers=(KinesisTrigger(stream="ticks"),),
)


def _records(n: int) -> list[dict]:
    return [
        {
            "SequenceNumber": f"4960{i:04d}",
            "PartitionKey": f"SYM{i}",
            "Data": f'{{"i": {i}}}'.encode(),
            "ApproximateArrivalTimestamp": datetime(2026, 11, 23, 4, 0, i, tzinfo=UTC),
        }
        for i in range(1, n + 1)
    ]


class FakeInvoker:
    """Records the sequence numbers of each invocation; ``failing(seq, call_no)`` decides failures."""

    def __init__(
        self,
        failing: Callable[[str, int], bool] = lambda s, n: False,
        raises: int = 0,
        report: Callable[[list[str]], list[str]] | None = None,
    ) -> None:
        self.failing, self.raises, self.report = failing, raises, report
        self.calls: list[list[str]] = []

    def __call__(self, spec: FunctionSpec, event: dict) -> dict:
        seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        for r in event["Records"]:
            base64.b64decode(r["kinesis"]["data"])  # the handler can read what it is given
        self.calls.append(seqs)
        if self.raises:
            self.raises -= 1
            raise RuntimeError("handler crashed")
        failed = [s for s in seqs if self.failing(s, len(self.calls))]
        if self.report:
            failed = self.report(failed)
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


class FakeCheckpoints:
    def __init__(self) -> None:
        self.history: list[tuple[str, str]] = []

    def get(self, key: str) -> str | None:
        return next((seq for k, seq in reversed(self.history) if k == key), None)

    def set(self, key: str, seq: str) -> None:
        self.history.append((key, seq))


def _poller(tmp_path, invoker: FakeInvoker, retry_attempts: int = 2):
    trigger = KinesisTrigger(stream="ticks", retry_attempts=retry_attempts)
    poller = KinesisPoller(Settings(stage="dev"), SPEC, trigger, tmp_path, invoker=invoker)
    poller.checkpoints = FakeCheckpoints()
    dead: list[tuple[str, list[dict]]] = []
    poller.dead_letter = lambda reason, records: dead.append((reason, records))
    poller.arn = "arn:aws:kinesis:ap-south-1:000000000000:stream/mantra-dev-ticks"
    return poller, dead


def _drain(poller: KinesisPoller, records: list[dict], max_calls: int = 20) -> None:
    """What poll_once does for one shard: deliver, then redeliver whatever is pending."""
    for _ in range(max_calls):
        poller._deliver(SHARD, records)
        records = poller.pending[SHARD]
        if not records:
            return
    raise AssertionError("the shard never moved on")


def test_a_successful_batch_checkpoints_its_last_record(tmp_path) -> None:
    invoker = FakeInvoker()
    poller, dead = _poller(tmp_path, invoker)
    _drain(poller, _records(3))
    assert invoker.calls == [["49600001", "49600002", "49600003"]]
    assert poller.checkpoints.history == [(SHARD, "49600003")]
    assert dead == [] and poller.pending[SHARD] == []


def test_a_partial_failure_checkpoints_the_records_before_it_and_retries_from_it(tmp_path) -> None:
    # Given record 3 of 5 fails on the first attempt only
    invoker = FakeInvoker(failing=lambda seq, call: seq == "49600003" and call == 1)
    poller, dead = _poller(tmp_path, invoker)
    # When the batch is delivered until the shard is drained
    _drain(poller, _records(5))
    # Then records 1-2 were checkpointed at once, and the retry started at record 3
    assert invoker.calls[1] == ["49600003", "49600004", "49600005"]
    assert poller.checkpoints.history == [(SHARD, "49600002"), (SHARD, "49600005")]
    assert dead == []


def test_the_lowest_failed_record_is_where_the_retry_starts(tmp_path) -> None:
    invoker = FakeInvoker(failing=lambda seq, call: seq in ("49600004", "49600002") and call == 1)
    poller, _ = _poller(tmp_path, invoker)
    _drain(poller, _records(4))
    assert invoker.calls[1][0] == "49600002"
    assert poller.checkpoints.history[0] == (SHARD, "49600001")


def test_a_poison_record_is_retried_retry_attempts_times_then_dead_lettered_and_the_shard_moves_on(
    tmp_path,
) -> None:
    # Given record 2 of 4 always fails and the trigger allows 2 retries
    invoker = FakeInvoker(failing=lambda seq, call: seq == "49600002")
    poller, dead = _poller(tmp_path, invoker, retry_attempts=2)
    # When delivered until drained
    _drain(poller, _records(4))
    # Then record 2 was tried 1 + 2 times, then sent to the failure destination exactly once
    assert sum("49600002" in call for call in invoker.calls) == 3
    ((reason, (letter,)),) = dead
    assert "retries exhausted after 2 attempts" in reason
    assert letter == {
        "shard": SHARD,
        "sequenceNumber": "49600002",
        "partitionKey": "SYM2",
        "data": '{"i": 2}',
    }
    # And the shard moved past it: 1, then 2 (dead-lettered), then 4 are checkpointed; 3-4 delivered once
    assert [seq for _, seq in poller.checkpoints.history] == ["49600001", "49600002", "49600004"]
    assert invoker.calls[-1] == ["49600003", "49600004"]
    assert poller.attempts[SHARD] == 0


def test_a_handler_that_raises_fails_the_whole_batch_and_only_the_first_record_is_dead_lettered(
    tmp_path,
) -> None:
    # Given a handler that crashes on its first 2 invocations (retry_attempts = 1)
    invoker = FakeInvoker(raises=2)
    poller, dead = _poller(tmp_path, invoker, retry_attempts=1)
    _drain(poller, _records(3))
    # Then the whole batch was retried once, then its first record dead-lettered and the rest delivered
    assert invoker.calls == [["49600001", "49600002", "49600003"]] * 2 + [["49600002", "49600003"]]
    assert [r["sequenceNumber"] for _, records in dead for r in records] == ["49600001"]
    assert poller.checkpoints.history == [(SHARD, "49600001"), (SHARD, "49600003")]
    assert poller.invocations == 3


def test_a_record_that_recovers_before_retries_run_out_is_never_dead_lettered(tmp_path) -> None:
    invoker = FakeInvoker(failing=lambda seq, call: seq == "49600001" and call <= 2)
    poller, dead = _poller(tmp_path, invoker, retry_attempts=2)
    _drain(poller, _records(2))
    assert dead == [] and len(invoker.calls) == 3
    assert poller.checkpoints.history == [(SHARD, "49600002")]


def test_an_unknown_item_identifier_fails_the_whole_batch_instead_of_losing_it(tmp_path) -> None:
    invoker = FakeInvoker(
        failing=lambda seq, call: call == 1, report=lambda failed: ["not-a-sequence-number"]
    )
    poller, _ = _poller(tmp_path, invoker)
    records = _records(2)
    poller._deliver(SHARD, records)
    assert poller.pending[SHARD] == records
    assert poller.checkpoints.history == []


def test_a_queue_with_max_concurrency_gets_that_many_pollers_side_by_side() -> None:
    from mantra.catalog import function
    from mantra.runtime.main import build_pollers, group_of
    from mantra.runtime.pollers import SqsPoller
    from mantra.settings import Settings

    spec = function("alert_dispatch")
    [trigger] = spec.triggers
    pollers = [
        p
        for p in build_pollers(Settings(), group=group_of("alert_dispatch"))
        if isinstance(p, SqsPoller) and p.spec.name == "alert_dispatch"
    ]
    assert len(pollers) == trigger.max_concurrency == 4  # type: ignore[union-attr]
    assert len({p.name for p in pollers}) == 4
