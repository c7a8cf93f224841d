"""The local runtime hands DynamoDB stream records to handlers in Lambda's shape, whatever DynamoDB Local names them."""

from __future__ import annotations

import pytest
from mantra.runtime.lambda_events import dynamodb_stream_event

from events.contracts import OutboxRecord

IMAGE = {
    "pk": {"S": "evt_1"},
    "event_id": {"S": "evt_1"},
    "detail_type": {"S": "plan.changed"},
    "detail": {"S": "{}"},
}


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ({"NewImage": IMAGE}, "INSERT"),
        ({"NewImage": IMAGE, "OldImage": IMAGE}, "MODIFY"),
        ({"OldImage": IMAGE}, "REMOVE"),
    ],
    ids=["new only", "old and new", "old only"],
)
def test_a_transactional_record_named_unknown_gets_its_name_from_its_images(images, expected) -> None:
    # Given a record of a TransactWriteItems write as DynamoDB Local streams it
    raw = {"eventID": "1", "eventName": "UNKNOWN_TO_SDK_VERSION", "eventSource": "aws:dynamodb", "eventVersion": "1.1",
           "dynamodb": {"Keys": {"pk": {"S": "evt_1"}}, "SequenceNumber": "100", "SizeBytes": 10,
                        "StreamViewType": "NEW_AND_OLD_IMAGES", **images}}  # fmt: skip
    # When the local runtime builds the Lambda event
    record = dynamodb_stream_event(
        [raw], "arn:aws:dynamodb:ap-south-1:0:table/outbox/stream/x", "ap-south-1"
    )["Records"][0]
    # Then it carries the name DynamoDB would have sent, and the handlers' record model accepts it
    assert record["eventName"] == expected
    assert OutboxRecord.model_validate(record).eventName == expected


def test_a_named_record_keeps_its_name() -> None:
    raw = {"eventID": "2", "eventName": "MODIFY", "dynamodb": {"NewImage": IMAGE, "SequenceNumber": "101"}}
    assert dynamodb_stream_event([raw], "arn", "ap-south-1")["Records"][0]["eventName"] == "MODIFY"
