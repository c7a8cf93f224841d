"""Ticks through real kinesalite and DynamoDB Local, with the local event source mapping."""

from __future__ import annotations

import json
from pathlib import Path

import timebase
from helpers import put_raw, sqs_bodies, tick, tick_bytes
from mantra.catalog import KinesisTrigger, function
from mantra.clock import SystemClock
from mantra.domain import Candle
from mantra.feed.runner import FeedRunner
from mantra.feed.simulated import SimulatedMarket
from mantra.market.instruments import demo_instruments
from mantra.runtime.pollers import KinesisPoller, failures_queue
from mantra.settings import Settings
from mantra.store.aws import KinesisTickPublisher, client
from mantra.store.repositories import (
    DynamoCandleRepository,
    DynamoFeedStatusRepository,
    DynamoQuoteRepository,
)


def _poller(settings: Settings, tmp_path: Path) -> KinesisPoller:
    spec = function("tick_processor")
    trigger = next(t for t in spec.triggers if isinstance(t, KinesisTrigger))
    return KinesisPoller(settings, spec, trigger, tmp_path)


def test_malformed_tick_is_dead_lettered_and_never_blocks_the_ticks_after_it(
    platform: Settings, tmp_path: Path
):
    # Given six good ITC ticks on one shard with a malformed record in the middle
    good = [tick("ITC", seq, 46_000 + seq * 5, qty=seq) for seq in range(1, 7)]
    records = [("ITC", tick_bytes(t)) for t in good[:3]] + [("ITC", b'{"tick_id": "broken", "ltp')]
    records += [("ITC", tick_bytes(t)) for t in good[3:]]
    kinesis = client("kinesis", platform.region)
    put_raw(kinesis, platform.name("ticks"), records)

    # When the local event source mapping drains the shard (with its retries)
    poller = _poller(platform, tmp_path)
    for _ in range(30):
        if not poller.poll_once() and not any(poller.pending.values()):
            break

    # Then every good tick is applied exactly once, even though the ones after the bad record were redelivered
    quote = DynamoQuoteRepository().get("ITC")
    assert quote is not None and quote.seq == 6 and quote.ltp_paise == 46_030
    candle = DynamoCandleRepository().get_many([("ITC", "1d", _day_start(good[0].ts_ms))])
    (c,) = candle.values()
    assert c.volume == sum(range(1, 7)) and c.ticks == 6
    assert c.open_paise == 46_005 and c.close_paise == 46_030
    # And the malformed record went to the failure destination, once
    sqs = client("sqs", platform.region)
    url = sqs.get_queue_url(QueueName=failures_queue(platform, "tick_processor"))["QueueUrl"]
    dead = [b for b in sqs_bodies(sqs, url) if "broken" in b["record"]["data"]]
    assert len(dead) == 1
    assert "retries exhausted" in dead[0]["reason"]


def test_feed_runner_publishes_simulated_ticks_and_reports_a_heartbeat(platform: Settings, tmp_path: Path):
    # Given the simulated market publishing to the real stream
    runner = FeedRunner(
        SimulatedMarket(demo_instruments(), seed=3),
        KinesisTickPublisher(platform),
        DynamoFeedStatusRepository(),
        SystemClock(),
        interval_ms=1,
        feed_id="it-feed",
    )
    # When it runs a few steps
    runner.run(max_steps=5)
    # Then ticks reached Kinesis and the heartbeat says how many
    assert runner.published > 0
    status = DynamoFeedStatusRepository().get("it-feed")
    assert status is not None and status.ticks_published == runner.published and status.state == "stopped"
    k = client("kinesis", platform.region)
    shards = k.describe_stream(StreamName=platform.name("ticks"))["StreamDescription"]["Shards"]
    simulated = 0
    for shard in shards:
        it = k.get_shard_iterator(
            StreamName=platform.name("ticks"), ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for r in k.get_records(ShardIterator=it, Limit=10_000)["Records"]:
            simulated += _is_simulated(r["Data"])
    assert simulated >= runner.published


def _is_simulated(data: bytes) -> bool:
    try:
        return json.loads(data)["seq"] > 10**12  # the simulator's microsecond sequence numbers
    except (ValueError, KeyError, TypeError):
        return False


def _day_start(ts_ms: int) -> int:
    from mantra.market.timeframes import bucket_start_ms

    return bucket_start_ms(ts_ms, "1d")


def test_demo_feed_ticks_never_change_a_real_bar_and_their_own_bars_are_labelled(
    platform: Settings, tmp_path: Path
):
    # Given the exchange's daily bar of a symbol no other test touches for the session (an end-of-day load), and demo ticks for it
    day = _day_start(timebase.SESSION_10AM)
    real = Candle(
        symbol="DEMOAPART",
        timeframe="1d",
        start_ms=day,
        open_paise=350_000,
        high_paise=356_000,
        low_paise=348_000,
        close_paise=354_500,
        volume=1_234_567,
        ticks=40_000,
        first_tick_ms=day,
        last_tick_ms=day,
        source="nse_eod",
    )
    candles = DynamoCandleRepository()
    candles.put_many([real])
    demo = [
        tick("DEMOAPART", seq, 360_000 + seq * 5, token="990001").model_copy(update={"source": "demo"})
        for seq in (1, 2, 3)
    ]
    put_raw(
        client("kinesis", platform.region),
        platform.name("ticks"),
        [("DEMOAPART", tick_bytes(t)) for t in demo],
    )
    # When the tick processor drains the stream
    poller = _poller(platform, tmp_path)
    for _ in range(30):
        if not poller.poll_once() and not any(poller.pending.values()):
            break
    # Then the real daily bar is exactly as the exchange published it, and the demo minute bar says what it is
    assert candles.get_many([("DEMOAPART", "1d", day)])[("DEMOAPART", "1d", day)] == real
    minute = candles.latest("DEMOAPART", "1m", timebase.SESSION_10AM + 10, 1)
    assert minute and minute[0].source == "demo" and minute[0].volume == sum(t.last_qty for t in demo)
    # And a scan reads only market data: the demo minute bar is not in its panel
    from mantra.market.history import HistoryLoader

    assert HistoryLoader(candles).series("DEMOAPART", "1m", 10, timebase.SESSION_10AM + 10) == []
