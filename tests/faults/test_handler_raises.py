"""tick_processor raising mid-batch, on the local event source mapping over kinesalite: the first try crashes
after applying half the batch, the retry crashes after applying all of it (a timeout after the writes), the
third try answers. Nothing may be lost or counted twice: candles, quotes, alert triggers and what the running
alert_dispatch delivers (inbox, e-mail, webhook)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultkit import AlertWatch, FaultPlatform, record
from mantra.catalog import FunctionSpec, KinesisTrigger, function
from mantra.runtime.invoke import invoke
from mantra.runtime.pollers import KinesisPoller
from mantra.store.aws import client
from traffic import BASE_PRICES, Tape, candle_mismatches, put_records


def test_handler_raising_mid_batch_loses_and_doubles_nothing(
    faulty: FaultPlatform, watch: AlertWatch, tmp_path: Path
):
    # Given a stream of its own read by tick_processor through the local event source mapping, and three
    # one-shot alerts on ICICIBANK that rising prices cross in turn
    settings = faulty.settings
    stream = "ticks-raising"
    kinesis = client("kinesis", settings.region)
    kinesis.create_stream(StreamName=settings.name(stream), ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=settings.name(stream), WaiterConfig={"Delay": 0.2})
    base = BASE_PRICES["ICICIBANK"]
    watch.cross_above("ICICIBANK", [base - 500, base, base + 500])
    tape = Tape.fresh()
    ticks = tape.make("ICICIBANK", 240, drift=lambda i: i * 10 - 1200)
    ticks += tape.make("HDFCBANK", 240) + tape.make("BHARTIARTL", 240)

    calls = {"n": 0, "raised": 0}

    def crashing(spec: FunctionSpec, event: dict[str, Any]) -> Any:
        calls["n"] += 1
        records = event["Records"]
        if calls["n"] % 3 == 1:  # the first try: half the batch is written, then the function dies
            invoke(spec, {**event, "Records": records[: len(records) // 2]})
            calls["raised"] += 1
            raise RuntimeError("tick_processor crashed mid-batch")
        if calls["n"] % 3 == 2:  # the retry: all of it is written, then it times out before answering
            invoke(spec, event)
            calls["raised"] += 1
            raise TimeoutError("tick_processor timed out after its writes")
        return invoke(spec, event)

    spec = function("tick_processor")
    trigger = KinesisTrigger(stream=stream, batch_size=100, retry_attempts=3)
    poller = KinesisPoller(settings, spec, trigger, tmp_path, invoker=crashing)

    # When the ticks arrive and the mapping drains the stream, every batch raising twice
    put_records(kinesis, settings.name(stream), [(t.symbol, t.model_dump_json().encode()) for t in ticks])
    idle = 0
    while idle < 3:
        busy = poller.poll_once() or any(poller.pending.values())
        idle = 0 if busy else idle + 1

    # Then every candle and quote is exact
    assert calls["raised"] >= 2 * (len(ticks) // 100)
    assert candle_mismatches(tape) == []
    # And each alert fired once and reached the inbox, the mailbox and the webhook receiver once each
    counts = watch.wait_all_delivered()
    assert list(counts.values()) == [(1, 1, 1)] * 3, counts
    record(
        "handler raising mid-batch",
        f"{len(ticks)} ticks in {calls['n']} invocations ({calls['raised']} raised after partial or full"
        " writes): candles, quotes and 3 alerts x 3 channels exact",
    )
