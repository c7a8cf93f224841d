"""The feed runner tells broker history about new instruments and ended outages; the worker backfills and
repairs from those, idempotently, one failure never stopping the rest."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import timebase
from feed_fakes import InMemoryFeedStatus, RecordingPublisher, ScriptedProvider, inst, tick
from mantra.domain import Instrument
from mantra.feed.failover import FailoverFeed
from mantra.feed.history_worker import HistoryWorker
from mantra.feed.runner import StreamingFeedRunner
from mantra.market.history_repair import HistoryRepair

_MARKET = str(Path(__file__).resolve().parents[1] / "market")
if _MARKET not in sys.path:
    sys.path.insert(0, _MARKET)

from history_fakes import SBIN, FakeKite, FakeTime, InMemoryCandles  # noqa: E402
from mantra.feed.providers.history import KITE_LIMITS, KiteHistory  # noqa: E402
from mantra.market.broker_history import Pacer  # noqa: E402

MON = timebase.SESSION_DAY
MINUTE = 60_000


class RecordingHooks:
    def __init__(self) -> None:
        self.subscribed_calls: list[list[str]] = []
        self.recovered_calls: list[tuple[list[str], int, int]] = []

    def subscribed(self, instruments: Sequence[Instrument]) -> None:
        self.subscribed_calls.append([i.symbol for i in instruments])

    def recovered(self, instruments: Sequence[Instrument], start_ms: int, end_ms: int) -> None:
        self.recovered_calls.append(([i.symbol for i in instruments], start_ms, end_ms))


def test_an_outage_is_reported_once_from_the_last_published_tick_to_the_reconnect() -> None:
    # Given a streaming feed that has published a tick at 10:00
    clock = timebase.clock(timebase.ist_ms(MON, 10, 0, 5))
    provider = ScriptedProvider("kite")
    feed = FailoverFeed([provider], clock, 30, lambda _: True, rng=random.Random(0))
    hooks = RecordingHooks()
    wanted = [inst("A")]
    runner = StreamingFeedRunner(
        feed, RecordingPublisher(), InMemoryFeedStatus(), clock, lambda: wanted, history=hooks
    )
    runner.instruments = wanted
    feed.start(wanted, runner.on_ticks)
    provider.push(tick("A", 1, ts_ms=timebase.ist_ms(MON, 10, 0)))
    runner.flush()
    runner.track_outage()
    assert hooks.recovered_calls == []
    # When the connection drops and comes back two minutes later
    provider.up = False
    feed.supervise()
    runner.track_outage()
    assert runner.state() == "reconnecting"
    clock.advance(120_000)
    feed.supervise()
    runner.track_outage()
    assert runner.state() == "streaming"
    runner.track_outage()
    # Then broker history hears of it once, from the last tick to the reconnect
    assert hooks.recovered_calls == [(["A"], timebase.ist_ms(MON, 10, 0), clock.now_ms())]


def test_a_failover_between_providers_is_an_outage_too() -> None:
    # Given angel streaming, then going stale while kite can take over in the same supervision step
    clock = timebase.clock(timebase.ist_ms(MON, 10, 0, 5))
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    feed = FailoverFeed([angel, kite], clock, 5, lambda _: True, rng=random.Random(0))
    hooks = RecordingHooks()
    wanted = [inst("A")]
    runner = StreamingFeedRunner(
        feed, RecordingPublisher(), InMemoryFeedStatus(), clock, lambda: wanted, history=hooks
    )
    runner.instruments = wanted
    feed.start(wanted, runner.on_ticks)
    angel.push(tick("A", 1, ts_ms=timebase.ist_ms(MON, 10, 0, 5)))
    runner.flush()
    runner.track_outage()
    clock.advance(6_000)  # no tick for 6 s: stale
    feed.supervise()
    assert feed.provider_name == "kite" and runner.state() == "streaming"
    runner.track_outage()
    runner.track_outage()
    assert hooks.recovered_calls == [(["A"], timebase.ist_ms(MON, 10, 0, 5), clock.now_ms())]


def test_a_changed_subscription_is_passed_on() -> None:
    clock = timebase.clock(timebase.ist_ms(MON, 10, 0))
    feed = FailoverFeed([ScriptedProvider("kite")], clock, 30, lambda _: True, rng=random.Random(0))
    hooks = RecordingHooks()
    wanted = [inst("A")]
    runner = StreamingFeedRunner(
        feed, RecordingPublisher(), InMemoryFeedStatus(), clock, lambda: wanted, history=hooks
    )
    wanted.append(inst("B"))
    runner.refresh_subscription(force=True)
    assert hooks.subscribed_calls == [["A", "B"]]


def _worker(now_ms: int) -> tuple[HistoryWorker, InMemoryCandles, FakeKite]:
    t, fake = FakeTime(), FakeKite()
    store = InMemoryCandles()
    history = KiteHistory(lambda: fake, Pacer(KITE_LIMITS, t.monotonic, t.sleep), sleep=t.sleep)
    repair = HistoryRepair(history, store, timebase.clock(now_ms))
    return HistoryWorker(repair, sessions=1, background=False), store, fake


def test_the_worker_backfills_each_new_instrument_once_and_repairs_outages() -> None:
    worker, store, fake = _worker(timebase.ist_ms(MON, 18, 0))
    worker.subscribed([SBIN])
    worker.subscribed([SBIN])  # the next refresh names it again
    assert worker.pending() == 1
    worker.drain()
    assert len(store.items) == 375 and worker.done == 1
    # an outage over minutes already held asks for nothing
    worker.recovered([SBIN], timebase.ist_ms(MON, 10, 0), timebase.ist_ms(MON, 10, 30))
    worker.drain()
    assert len(fake.calls) == 1 and worker.done == 2


def test_one_instrument_failing_never_stops_the_others() -> None:
    worker, store, _fake = _worker(timebase.ist_ms(MON, 18, 0))
    no_token = SBIN.model_copy(update={"symbol": "BAD", "broker_tokens": {}, "token": "BAD-EQ"})
    worker.subscribed([no_token, SBIN])
    worker.drain()
    assert (worker.done, worker.failed) == (1, 1)
    assert {k[0] for k in store.items} == {"SBIN"}


def test_the_worker_thread_runs_queued_jobs_and_stops() -> None:
    worker, store, _ = _worker(timebase.ist_ms(MON, 18, 0))
    worker._background = True  # as the feed task runs it: the first job starts the thread
    worker.subscribed([SBIN])
    for _ in range(500):
        if worker.done:
            break
        time.sleep(0.01)
    worker.stop()
    assert worker.done == 1 and len(store.items) == 375
