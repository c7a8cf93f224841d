"""The simulated market (deterministic, on the tick grid, rising seq) and the feed loop with fakes."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from core_fakes import SESSION_10AM, InMemoryFeedStatus, RecordingTickPublisher, make_tick
from mantra.clock import ManualClock
from mantra.feed.runner import FeedRunner
from mantra.feed.simulated import SimulatedMarket, day_so_far, volume_profile
from mantra.market.instruments import demo_instruments

STEP_MS = 200


def _run(seed: int, steps: int = 200, start: int = SESSION_10AM):
    market = SimulatedMarket(demo_instruments(), seed=seed)
    return market, [t for i in range(steps) for t in market.next_ticks(start + i * STEP_MS)]


def test_the_same_seed_and_clock_give_the_same_ticks() -> None:
    _, a = _run(seed=7)
    _, b = _run(seed=7)
    _, c = _run(seed=8)
    assert a == b and len(a) > 1000
    assert a != c


def test_every_price_is_on_its_instruments_tick_grid() -> None:
    market, ticks = _run(seed=7)
    step = {i.symbol: i.tick_size_paise for i in market.instruments}
    for t in ticks:
        s = step[t.symbol]
        assert t.ltp_paise % s == 0 and t.bid_paise % s == 0 and t.ask_paise % s == 0, t
        assert t.open_paise % s == 0 and t.prev_close_paise % s == 0, t
        assert t.bid_paise < t.ltp_paise < t.ask_paise


def test_seq_is_strictly_increasing_per_symbol_and_tick_ids_are_unique() -> None:
    _, ticks = _run(seed=7)
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for t in ticks:
        by_symbol[t.symbol].append(t.seq)
    assert len(by_symbol) == 12
    for seqs in by_symbol.values():
        assert all(a < b for a, b in itertools.pairwise(seqs))
    assert len({t.tick_id for t in ticks}) == len(ticks)


def test_seq_keeps_rising_when_called_twice_for_the_same_instant() -> None:
    market = SimulatedMarket(demo_instruments()[:1], seed=1, tick_probability=1.0)
    first, second = market.next_ticks(SESSION_10AM), market.next_ticks(SESSION_10AM)
    assert second[0].seq == first[0].seq + 1


def test_cumulative_volume_never_decreases_and_indices_trade_no_quantity() -> None:
    market, ticks = _run(seed=3)
    kind = {i.symbol: i.instrument_type for i in market.instruments}
    last: dict[str, int] = {}
    for t in ticks:
        assert t.volume >= last.get(t.symbol, 0)
        last[t.symbol] = t.volume
        if kind[t.symbol] == "INDEX":
            assert t.last_qty == 0
        else:
            assert t.last_qty >= 1


def test_volume_profile_is_busier_at_open_and_close_than_at_lunch() -> None:
    from core_fakes import ist_ms

    open_, lunch, close = (
        volume_profile(ist_ms(2026, 11, 23, h, m)) for h, m in ((9, 15), (12, 22), (15, 30))
    )
    assert open_ == pytest.approx(1.4) and close == pytest.approx(1.4)
    assert lunch == pytest.approx(0.6, abs=0.01)


# --- runner -------------------------------------------------------------------------------------------------


class FixedProvider:
    name = "fixed"

    def __init__(self, batches: list[list]) -> None:
        self.batches = batches
        self.asked: list[int] = []

    def next_ticks(self, now_ms: int) -> list:
        self.asked.append(now_ms)
        return self.batches.pop(0) if self.batches else []

    @property
    def instruments(self) -> list:
        return ["A", "B", "C"]


def test_a_step_publishes_the_providers_ticks_and_tracks_the_latest_tick_time() -> None:
    provider = FixedProvider([[make_tick("A", 1, SESSION_10AM + 5), make_tick("B", 1, SESSION_10AM + 9)]])
    publisher, clock = RecordingTickPublisher(), ManualClock(SESSION_10AM)
    runner = FeedRunner(provider, publisher, InMemoryFeedStatus(), clock, interval_ms=0)
    assert runner.step() == 2
    assert (runner.published, runner.last_tick_ms) == (2, SESSION_10AM + 9)
    assert provider.asked == [clock.now] and len(publisher.batches) == 1
    assert runner.step() == 0 and len(publisher.batches) == 1  # nothing to send, nothing sent


def test_run_reports_degraded_when_publishing_fails_and_stopped_at_the_end() -> None:
    # Given a publisher that fails once, then recovers
    provider = FixedProvider([[make_tick("A", 1)], [make_tick("A", 2)], [make_tick("A", 3)]])
    status, clock = InMemoryFeedStatus(), ManualClock(SESSION_10AM)
    runner = FeedRunner(provider, RecordingTickPublisher(fail_times=1), status, clock, interval_ms=0)
    # When the loop runs three steps (the clock standing still)
    runner.run(max_steps=3)
    # Then it beat "degraded" on the failure, kept going, and said "stopped" last
    states = [b.state for b in status.beats]
    assert states[0] == "degraded" and states[-1] == "stopped"
    final = status.get("primary")
    assert (final.provider, final.instruments, final.ticks_published) == ("fixed", 3, 2)


def test_a_healthy_loop_beats_at_most_once_a_second() -> None:
    status, clock = InMemoryFeedStatus(), ManualClock(SESSION_10AM)

    class Ticking(FixedProvider):
        def next_ticks(self, now_ms: int) -> list:
            clock.advance(250)
            return []

    runner = FeedRunner(Ticking([]), RecordingTickPublisher(), status, clock, interval_ms=0)
    runner.run(max_steps=8)  # 2 s of simulated time
    streaming = [b for b in status.beats if b.state == "streaming"]
    assert 2 <= len(streaming) <= 3
    assert status.beats[-1].state == "stopped"


def test_stop_ends_the_loop_before_the_next_step() -> None:
    provider = FixedProvider([])
    runner = FeedRunner(
        provider, RecordingTickPublisher(), InMemoryFeedStatus(), ManualClock(SESSION_10AM), interval_ms=0
    )
    runner.stop()
    runner.run()
    assert provider.asked == []


def test_the_demo_cumulative_volume_is_per_session_and_a_restarted_market_carries_on_near_it() -> None:
    # Given a simulated market stepped through the morning, and another made (a restart) an hour later
    market, ticks = _run(seed=4, steps=50)
    later = SESSION_10AM + 3_600_000
    restarted = [t for t in SimulatedMarket(demo_instruments(), seed=4).next_ticks(later) if t.volume]
    # Then each instrument's cumulative only rises within the session
    by_symbol = defaultdict(list)
    for t in ticks:
        by_symbol[t.symbol].append(t.volume)
    assert all(v == sorted(v) for v in by_symbol.values())
    # And the restarted one starts where the day would stand by then, above the earlier run's, not at zero
    assert all(t.volume > max(by_symbol[t.symbol]) for t in restarted if by_symbol[t.symbol])
    # And the next IST day starts its cumulative afresh (at 09:15:02: two seconds' worth plus the trade)
    nxt = [t for t in market.next_ticks(SESSION_10AM + 86_400_000 - 2_698_000) if t.volume]
    assert nxt and all(t.volume == day_so_far(t.ts_ms, 150 * 0.8) + t.last_qty for t in nxt)
    assert day_so_far(nxt[0].ts_ms, 120) == 240
