"""The push runner: bounded buffer, batches of at most 500, failed batches kept, seq never goes backwards,
health rows for the feed and for each provider."""

from __future__ import annotations

import random
import threading
import time

from feed_fakes import (
    SESSION_10AM,
    InMemoryFeedStatus,
    NeedsLogin,
    RecordingPublisher,
    ScriptedProvider,
    inst,
    tick,
)
from mantra.clock import ManualClock, SystemClock
from mantra.feed.failover import FailoverFeed
from mantra.feed.runner import SeqGuard, StreamingFeedRunner, TickBuffer
from mantra.feed.simulated import SimulatedMarket, SimulatedProvider
from mantra.market.instruments import demo_instruments


def _runner(*providers, publisher=None, clock=None, subscription=None):
    clock = clock or ManualClock(SESSION_10AM)
    feed = FailoverFeed(providers, clock, 5, lambda _: True, rng=random.Random(0))
    status = InMemoryFeedStatus()
    runner = StreamingFeedRunner(
        feed, publisher or RecordingPublisher(), status, clock, subscription or (lambda: [inst("A")]),
        flush_ms=20, batch=500,
    )  # fmt: skip
    return runner, feed, status


def test_a_full_buffer_drops_the_oldest_ticks_and_counts_them() -> None:
    buf = TickBuffer(capacity=3)
    buf.put([tick("A", i) for i in range(1, 6)], wake_at=500)
    assert [t.seq for t in buf.take(10, 0)] == [3, 4, 5] and buf.dropped == 2


def test_flush_sends_at_most_one_batch_of_500() -> None:
    runner, _, _ = _runner(ScriptedProvider("angel"))
    runner.on_ticks([tick("A", i) for i in range(1, 1201)])
    assert runner.flush() == 500 and runner.flush() == 500 and runner.flush() == 200
    assert runner.published == 1200


def test_a_failed_publish_keeps_the_batch_in_order_for_the_next_flush() -> None:
    publisher = RecordingPublisher(fail_times=1)
    runner, feed, _ = _runner(ScriptedProvider("angel"), publisher=publisher)
    feed.start([inst("A")], runner.on_ticks)
    runner.on_ticks([tick("A", 1), tick("A", 2)])
    assert runner.flush() == 0 and runner.publish_failing and runner.state() == "degraded"
    runner.on_ticks([tick("A", 3)])
    assert runner.flush() == 3
    assert [t.seq for t in publisher.batches[0]] == [1, 2, 3] and not runner.publish_failing


def test_seq_guard_restamps_a_tick_that_would_go_backwards_after_a_failover() -> None:
    guard = SeqGuard()
    out = guard.apply([tick("A", 100), tick("A", 50), tick("B", 7)])
    assert [t.seq for t in out] == [100, 101, 7]
    assert out[1].tick_id == "tA-101" and out[1].ltp_paise == 10_000


def test_heartbeat_names_the_active_provider_and_writes_a_row_per_provider() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    angel.fail = NeedsLogin("request token")
    runner, feed, status = _runner(angel, kite)
    feed.start([inst("A")], runner.on_ticks)
    runner.instruments = [inst("A")]
    runner.heartbeat()
    main = status.get("primary")
    assert (main.provider, main.state, main.instruments) == ("kite", "streaming", 1)
    assert status.get("primary:angel").state == "needs_login"
    assert status.get("primary:kite").state == "streaming"


def test_state_says_needs_login_when_no_provider_can_log_in() -> None:
    angel = ScriptedProvider("angel")
    angel.fail = NeedsLogin("no token")
    runner, feed, _ = _runner(angel)
    feed.start([inst("A")], runner.on_ticks)
    assert runner.state() == "needs_login"


def test_a_changed_subscription_is_pushed_to_the_provider_on_refresh() -> None:
    angel = ScriptedProvider("angel")
    wanted = [inst("A")]
    runner, feed, _ = _runner(angel, subscription=lambda: list(wanted))
    feed.start(wanted, runner.on_ticks)
    wanted.append(inst("B"))
    runner.refresh_subscription(force=True)
    assert angel.subscribed == ["A", "B"] and len(runner.instruments) == 2


def test_run_streams_the_simulated_market_to_the_publisher_and_stops_cleanly() -> None:
    clock = SystemClock()
    market = SimulatedMarket(demo_instruments(), seed=3, tick_probability=1.0)
    publisher = RecordingPublisher()
    runner, _, status = _runner(
        SimulatedProvider(market, clock, interval_ms=20), publisher=publisher, clock=clock,
        subscription=lambda: market.instruments,
    )  # fmt: skip
    thread = threading.Thread(target=runner.run, kwargs={"supervise_s": 0.05})
    thread.start()
    deadline = time.monotonic() + 5
    while runner.published < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    thread.join(5)
    assert runner.published >= 100 and not thread.is_alive()
    assert {t.symbol for b in publisher.batches for t in b} == {i.symbol for i in market.instruments}
    assert status.get("primary").state == "stopped" and status.get("primary").instruments == 12
