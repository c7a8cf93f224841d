"""Every process of the platform runs at the suites' moment: with MANTRA_TEST_NOW set (``make test-future``),
DynamoDB Local (Java), kinesalite (Node), moto server and the Stripe stand-in all stamp what they create with that
moment, not the machine's real date. Without it, they agree with the wall clock the suite started at."""

from __future__ import annotations

import uuid

import httpx
import timebase
from mantra.settings import Settings
from mantra.store.aws import client
from mantra.store.models import ALL_MODELS

# the suite may run for a while after its moment was taken; anything further off is another clock
TOLERANCE_S = 30 * 60


# the billing tests move the Stripe stand-in's own test clock forward (past Stripe's 24 h idempotency window)
STRIPE_TEST_CLOCK_S = 7 * 86400


def _near_the_test_moment(epoch_s: float, who: str, ahead_s: float = 0) -> None:
    drift = epoch_s - timebase.NOW_MS / 1000
    assert -60 < drift < TOLERANCE_S + ahead_s, (
        f"{who} runs {drift / 86400:+.1f} days away from the test moment"
    )


def test_dynamodb_local_kinesalite_moto_and_stripe_share_the_test_moment(platform: Settings) -> None:
    # Given the stand-ins started by the session fixture
    # When each creates something and stamps it with its own clock
    table = ALL_MODELS[0].Meta.table_name
    created = client("dynamodb", platform.region).describe_table(TableName=table)["Table"]["CreationDateTime"]
    kinesis, stream = client("kinesis", platform.region), platform.name(platform.tick_stream)
    put = kinesis.put_record(StreamName=stream, PartitionKey="clock", Data=b"{}")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream,
        ShardId=put["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=put["SequenceNumber"],
    )["ShardIterator"]
    arrived = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0][
        "ApproximateArrivalTimestamp"
    ]
    sqs = client("sqs", platform.region)
    url = sqs.create_queue(QueueName=f"clock-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="tick-tock")
    sent = sqs.receive_message(QueueUrl=url, AttributeNames=["SentTimestamp"])["Messages"][0]
    customer = httpx.post(
        f"{platform.stripe_api_base}/v1/customers",
        data={"email": "clock@it.trademantra.in"},
        headers={"Authorization": "Bearer sk_test_clock"},
        timeout=10,
    ).json()
    # Then every stamp is the suite's moment (the tables were created when the session started)
    _near_the_test_moment(created.timestamp(), "DynamoDB Local")
    _near_the_test_moment(arrived.timestamp(), "kinesalite")
    _near_the_test_moment(int(sent["Attributes"]["SentTimestamp"]) / 1000, "moto server")
    _near_the_test_moment(customer["created"], "the Stripe stand-in", STRIPE_TEST_CLOCK_S)
