"""tick_processor parses a Kinesis batch in one go, and falls back to record-by-record when one is bad."""

from __future__ import annotations

import base64

from core_fakes import SESSION_10AM, make_tick

from functions.tick_processor.handler import parse_all


def _event(payloads: list[bytes]) -> dict[str, object]:
    return {
        "Records": [
            {
                "kinesis": {
                    "data": base64.b64encode(p).decode(),
                    "partitionKey": "2885",
                    "sequenceNumber": str(i),
                }
            }
            for i, p in enumerate(payloads)
        ]
    }


def test_a_batch_of_good_records_parses_in_one_go_in_order() -> None:
    ticks = [make_tick("RELIANCE", s, SESSION_10AM + s, volume=10 * s) for s in range(1, 6)]
    assert parse_all(_event([t.model_dump_json().encode() for t in ticks])) == ticks


def test_a_bad_record_or_one_that_holds_two_ticks_sends_the_batch_record_by_record() -> None:
    good = make_tick("RELIANCE", 1, SESSION_10AM).model_dump_json().encode()
    assert parse_all(_event([good, b'{"tick_id": "broken", "ltp'])) is None
    assert parse_all(_event([good + b"," + good])) is None  # one record must be one tick
    assert parse_all(_event([good, b'{"tick_id": "x"}'])) is None  # valid JSON, not a tick
    assert parse_all({"Records": [{"kinesis": {"data": "not base64!"}}]}) is None
