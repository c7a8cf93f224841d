"""Ticks through real kinesalite and DynamoDB Local, with the local event source mapping."""

from __future__ import annotations

import json
import random
from pathlib import Path

import broker_tape as bt
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
    good = [
        tick("ITC", seq, 46_000 + seq * 5, qty=seq).model_copy(update={"volume": seq * (seq + 1) // 2})
        for seq in range(1, 7)
    ]  # the day's cumulative volume: 1, 3, 6, ... 21
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


def _drain(poller: KinesisPoller) -> None:
    for _ in range(60):
        if not poller.poll_once() and not any(poller.pending.values()):
            break


def test_broker_ticks_reordered_and_redelivered_across_batches_give_the_exchanges_volume_in_dynamodb(
    platform: Settings, tmp_path: Path
):
    # Given SmartAPI and Kite ticks of NSE and BSE instruments (names no other test uses; one of them is in no
    # instrument master), with a feed restart at 09:30 and re-sent snapshots
    insts = [
        (i.model_copy(update={"symbol": f"VOL{i.symbol}"}), p) for i, p in bt.INSTRUMENTS[::2]
    ]  # fmt: skip
    prints = bt.tape(seed=11, instruments=insts, minutes=25)
    restart = bt.session_ms(timebase.SESSION_DAY, 9, 30)
    ticks = bt.deliver(prints, "angel", restart_at_ms=restart, resend=0.1, seed=12)
    # And a tenth of them held back: each reaches the stream after its successors, a put (and a batch) later
    rng = random.Random(13)
    kinesis, stream = client("kinesis", platform.region), platform.name("ticks")
    poller = _poller(platform, tmp_path)

    def put(batch: list) -> None:
        for i in range(0, len(batch), 500):
            put_raw(kinesis, stream, [(t.token, tick_bytes(t)) for t in batch[i : i + 500]])

    # When the stream is drained after each put, and one put is sent twice (a producer retry)
    held: list = []
    for i in range(0, len(ticks), 400):
        chunk = ticks[i : i + 400]
        late = [t for t in chunk if rng.random() < 0.1]
        put([t for t in chunk if t not in late] + held)
        held = late
        _drain(poller)
        if i == 800:
            put(chunk)
            _drain(poller)
    put(held)
    _drain(poller)

    # Then every 1m and 1d bar in DynamoDB holds what the exchange says it traded
    candles = DynamoCandleRepository()
    lost = bt.outage(prints, restart)
    for tf in ("1m", "1d"):
        want = bt.true_volumes(prints, tf, lost)
        got = {}
        for inst, _ in insts:
            rows = candles.range(inst.symbol, tf, 0, 2**62, 10_000)
            got.update({(inst.symbol, c.start_ms): c.volume for c in rows})
        assert got == want, tf
    # And each quote ends at the day's cumulative, on the newest tick
    quotes = DynamoQuoteRepository()
    for inst, _ in insts:
        q = quotes.get(inst.symbol)
        assert q is not None and q.volume == max(p.cum for p in prints if p.inst.symbol == inst.symbol)
