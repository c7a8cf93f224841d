"""KinesisTickPublisher: batches of 500, only failed entries retried with backoff, gives up loudly."""

from __future__ import annotations

import json

import pytest
from core_fakes import make_tick
from mantra.settings import Settings
from mantra.store.aws import KinesisTickPublisher


class FakeKinesis:
    """put_records that fails the entries ``fail(call_no, index, record)`` says, as Kinesis reports them."""

    def __init__(self, fail=lambda call, i, rec: False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, list[dict]]] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:  # noqa: N803 - boto3's names
        self.calls.append((StreamName, Records))
        call = len(self.calls)
        results = [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
            if self.fail(call, i, rec)
            else {"SequenceNumber": f"{call}-{i}", "ShardId": "shardId-0"}
            for i, rec in enumerate(Records)
        ]
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def _publisher(kinesis: FakeKinesis, max_attempts: int = 5):
    sleeps: list[float] = []
    pub = KinesisTickPublisher(Settings(stage="dev"), max_attempts=max_attempts, sleep=sleeps.append)
    pub._kinesis = kinesis
    return pub, sleeps


def _symbols(records: list[dict]) -> list[str]:
    return [json.loads(r["Data"])["symbol"] for r in records]


def test_ticks_are_put_on_the_stage_stream_partitioned_by_instrument_token() -> None:
    kinesis = FakeKinesis()
    pub, sleeps = _publisher(kinesis)
    ticks = [make_tick("RELIANCE", 1), make_tick("TCS", 1)]
    assert pub.publish(ticks) == 2
    ((stream, records),) = kinesis.calls
    assert stream == "mantra-dev-ticks"
    assert [r["PartitionKey"] for r in records] == ["tok-RELIANCE", "tok-TCS"]
    assert json.loads(records[0]["Data"]) == ticks[0].model_dump()
    assert sleeps == []


def test_only_the_failed_entries_are_retried_after_a_backoff() -> None:
    # Given Kinesis throttles entries 1 and 3 on the first call
    kinesis = FakeKinesis(fail=lambda call, i, rec: call == 1 and i in (1, 3))
    pub, sleeps = _publisher(kinesis)
    ticks = [make_tick(f"S{i}", 1) for i in range(5)]
    # When published / Then the second call carries exactly those two, and all five count as sent
    assert pub.publish(ticks) == 5
    assert _symbols(kinesis.calls[1][1]) == ["S1", "S3"]
    assert len(kinesis.calls) == 2 and len(sleeps) == 1 and 0 < sleeps[0] <= 3.0


def test_backoff_grows_between_attempts() -> None:
    kinesis = FakeKinesis(fail=lambda call, i, rec: call <= 4)
    pub, sleeps = _publisher(kinesis, max_attempts=5)
    assert pub.publish([make_tick()]) == 1
    # 0.05 * 2**attempt with jitter in [0.5, 1.5): each bound is disjoint from the next-but-one
    assert len(sleeps) == 4
    assert sleeps[0] < 0.075 <= 0.1 <= sleeps[2] and sleeps[1] < sleeps[3]


def test_publishing_gives_up_after_max_attempts_naming_how_many_ticks_were_not_accepted() -> None:
    kinesis = FakeKinesis(fail=lambda call, i, rec: i == 0)  # the first entry of every call is refused
    pub, sleeps = _publisher(kinesis, max_attempts=3)
    with pytest.raises(RuntimeError, match="1 ticks not accepted by Kinesis after 3 attempts"):
        pub.publish([make_tick("A", 1), make_tick("B", 1), make_tick("C", 1)])
    # each attempt resent only what was still failing, after a pause
    assert len(sleeps) == 3
    assert [len(records) for _, records in kinesis.calls] == [3, 1, 1]
    assert all(_symbols(records) == ["A"] for _, records in kinesis.calls[1:])


def test_more_than_500_ticks_go_out_in_put_records_batches_of_at_most_500() -> None:
    kinesis = FakeKinesis()
    pub, _ = _publisher(kinesis)
    ticks = [make_tick("RELIANCE", seq) for seq in range(1, 1202)]
    assert pub.publish(ticks) == 1201
    assert [len(records) for _, records in kinesis.calls] == [500, 500, 201]
    sent_seqs = [json.loads(r["Data"])["seq"] for _, records in kinesis.calls for r in records]
    assert sent_seqs == list(range(1, 1202))
