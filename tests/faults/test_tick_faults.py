"""Duplicated, reordered and malformed ticks through the running tick_processor (kinesalite -> DynamoDB Local):
every good tick becomes its candle volume exactly once; each malformed record is dead-lettered once."""

from __future__ import annotations

import json
import random

from faultkit import FaultPlatform, record
from mantra.runtime.pollers import failures_queue
from mantra.store.aws import client
from traffic import Tape, candle_mismatches, put_records, wait_drained


def _malformed(marker: str, symbol: str) -> list[tuple[str, bytes]]:
    """What a broken producer sends: cut JSON, a missing field, a wrong type, a negative price, binary junk."""
    good = {
        "tick_id": f"{marker}-x",
        "seq": 1,
        "symbol": symbol,
        "token": "1",
        "ts_ms": 1,
        "ltp_paise": 100,
        "last_qty": 1,
        "volume": 1,
    }
    cut = json.dumps(good)[:40]
    return [
        (symbol, cut.encode() + marker.encode()),
        (symbol, json.dumps({k: v for k, v in good.items() if k != "ltp_paise"}).encode()),
        (symbol, json.dumps({**good, "seq": "many"}).encode()),
        (symbol, json.dumps({**good, "ltp_paise": -100}).encode()),
        (symbol, b"\x00\xff" + marker.encode() + b"\x81"),
    ]


def _dead_letters(faulty: FaultPlatform, marker: str) -> int:
    sqs = client("sqs", faulty.settings.region)
    url = sqs.get_queue_url(QueueName=failures_queue(faulty.settings, "tick_processor"))["QueueUrl"]
    n = 0
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            return n
        for m in msgs:
            n += marker in json.loads(m["Body"])["record"]["data"]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_duplicated_reordered_and_malformed_ticks_count_exactly_once(faulty: FaultPlatform):
    # Given three instruments' ticks, some sent twice, shuffled, a block held back and sent after the rest, and
    # malformed records among them
    rng = random.Random(13)
    tape = Tape.fresh()
    marker = f"malformed{tape.seq_base}"
    first: list[tuple[str, bytes]] = []
    held: list[tuple[str, bytes]] = []
    for symbol in ("SBIN", "INFY", "TATAMOTORS"):
        ticks = tape.make(symbol, 150)
        for i, t in enumerate(ticks):
            data = t.model_dump_json().encode()
            (held if 100 <= i < 120 else first).append((symbol, data))
            if rng.random() < 0.2:
                first.append((symbol, data))  # a duplicate from the feed
    rng.shuffle(first)
    for i, bad in enumerate(_malformed(marker, "SBIN")):
        first.insert(40 * i + 7, bad)
    duplicates_sent = len(first) - 5 - (tape.total_ticks() - len(held))

    # When they reach the stream, and later the held-back block plus copies of ticks already applied
    kinesis = client("kinesis", faulty.settings.region)
    stream = faulty.settings.name("ticks")
    last = put_records(kinesis, stream, first)
    waited = wait_drained(faulty.checkpoint_dir(), last)
    again = rng.sample([r for r in first if marker.encode() not in r[1]], 30)
    last = put_records(kinesis, stream, held + again)
    waited += wait_drained(faulty.checkpoint_dir(), last)

    # Then every candle (1m, 5m, 1d) holds each distinct tick once and the quotes stand at the last tick
    assert candle_mismatches(tape) == []
    # And each malformed record went to the failure destination once; its neighbours were all applied
    assert _dead_letters(faulty, marker) == 5
    record(
        "duplicated/reordered/malformed ticks",
        f"{tape.total_ticks()} distinct ticks, {duplicates_sent + 30} duplicates, 20x3 held back, 5 malformed:"
        f" drained in {waited:.1f} s, exact",
    )
