"""TickProcessor: idempotent on retried batches, sequence-ordered quotes, candles and alert triggers."""

from __future__ import annotations

import pytest
import timebase
from core_fakes import (
    SESSION_10AM,
    InMemoryAlerts,
    InMemoryCandles,
    InMemoryOutboxMarks,
    InMemoryQuotes,
    RecordingEventPublisher,
    ist_ms,
    make_alert,
    make_tick,
)
from mantra.alerts.evaluate import trigger_id
from mantra.clock import ManualClock
from mantra.domain import AlertCondition, AlertStatus
from mantra.eventbus import OutboxFastPath
from mantra.market.ticks import ALERT_TRIGGERED, TickProcessor

T0 = SESSION_10AM


class World:
    def __init__(self, fast_path: OutboxFastPath | None = None) -> None:
        self.quotes = InMemoryQuotes()
        self.candles = InMemoryCandles(self.quotes.candles)
        self.alerts = InMemoryAlerts()
        self.clock = ManualClock(T0 + 120_000)
        self.processor = TickProcessor(
            self.quotes,
            self.candles,
            self.alerts,
            self.clock,
            timeframes=("1m", "1d"),
            max_workers=2,
            fast_path=fast_path,
        )


@pytest.fixture
def world() -> World:
    return World()


def _batch():
    return [
        make_tick(
            "RELIANCE",
            1,
            T0 + 1_000,
            ltp=129_000,
            qty=5,
            volume=5,
            open_paise=128_000,
            prev_close_paise=127_500,
        ),
        make_tick(
            "RELIANCE",
            2,
            T0 + 2_000,
            ltp=131_000,
            qty=5,
            volume=10,
            open_paise=128_000,
            prev_close_paise=127_500,
        ),
        make_tick("TCS", 1, T0 + 1_500, ltp=392_050, qty=1, volume=1),
    ]


def test_first_batch_writes_quotes_and_candles_per_symbol(world: World) -> None:
    # Given an empty store / When a batch for two symbols is processed
    summary = world.processor.process(_batch())
    # Then each symbol has a quote at its last tick and a 1m and 1d candle
    assert (summary.ticks, summary.applied, summary.duplicates, summary.symbols) == (3, 3, 0, 2)
    assert summary.candles_written == 4 and summary.conflicts == 0
    q = world.quotes.get("RELIANCE")
    assert (q.ltp_paise, q.seq, q.high_paise, q.low_paise, q.volume) == (131_000, 2, 131_000, 129_000, 10)
    assert (q.open_paise, q.prev_close_paise, q.session_date) == (
        128_000,
        127_500,
        timebase.SESSION_DAY.isoformat(),
    )
    assert world.candles.items[("RELIANCE", "1m", T0)].volume == 10


def test_without_feed_open_and_prev_close_the_first_session_price_stands_for_both(world: World) -> None:
    # Given a feed that sends no open / previous close / When the first ticks of a session arrive
    world.processor.process([make_tick("INFY", s, T0 + s, ltp=158_000 + s * 100) for s in (1, 2)])
    # Then open is the first traded price and, with no history, the previous close is the open
    q = world.quotes.get("INFY")
    assert (q.open_paise, q.prev_close_paise, q.ltp_paise) == (158_100, 158_100, 158_200)


def test_a_retried_batch_changes_nothing(world: World) -> None:
    # Given a batch already applied
    world.processor.process(_batch())
    quotes_before, candles_before = dict(world.quotes.items), dict(world.candles.items)
    # When the same batch is delivered again (a Kinesis retry)
    summary = world.processor.process(_batch())
    # Then every tick is recognised as a duplicate and no write happens
    assert (summary.applied, summary.duplicates, summary.symbols, summary.candles_written) == (0, 3, 0, 0)
    assert world.quotes.items == quotes_before and world.candles.items == candles_before
    assert len(world.quotes.applied) == 2


def test_ticks_at_or_below_the_stored_sequence_are_dropped_and_newer_ones_applied(world: World) -> None:
    # Given RELIANCE stored at seq 2
    world.processor.process(_batch()[:2])
    # When a batch mixes old (1, 2) and new (3) ticks
    cums = {1: 5, 2: 10, 3: 11}  # the day's cumulative volume: seq 3 traded one more share
    batch = [
        make_tick("RELIANCE", s, T0 + s * 1_000, ltp=130_000 + s, qty=1, volume=cums[s]) for s in (1, 2, 3)
    ]
    summary = world.processor.process(batch)
    # Then only seq 3 is applied, and the candle volume grows by its share of the cumulative only
    assert (summary.applied, summary.duplicates) == (1, 2)
    assert world.quotes.get("RELIANCE").seq == 3
    assert world.candles.items[("RELIANCE", "1m", T0)].volume == 11


def test_a_tick_repeated_inside_a_batch_counts_once(world: World) -> None:
    t = make_tick("RELIANCE", 1, T0 + 1_000, ltp=129_000, qty=7)
    summary = world.processor.process([t, t, t])
    assert (summary.applied, summary.duplicates) == (1, 2)
    assert world.candles.items[("RELIANCE", "1m", T0)].volume == 7


def test_out_of_order_ticks_in_a_batch_leave_the_quote_at_the_highest_sequence(world: World) -> None:
    # Given ticks delivered as seq 3, 1, 2 / When processed / Then the quote shows seq 3's price
    batch = [make_tick("RELIANCE", s, T0 + s * 1_000, ltp=100_000 + s * 10) for s in (3, 1, 2)]
    world.processor.process(batch)
    q = world.quotes.get("RELIANCE")
    assert (q.seq, q.ltp_paise, q.tick_id) == (3, 100_030, "RELIANCE-3")
    c = world.candles.items[("RELIANCE", "1m", T0)]
    assert (c.open_paise, c.close_paise) == (100_010, 100_030)


def test_a_later_batch_in_the_same_session_keeps_open_and_widens_high_low(world: World) -> None:
    world.processor.process(_batch()[:2])
    world.processor.process([make_tick("RELIANCE", 3, T0 + 3_000, ltp=120_000, qty=1, volume=11)])
    q = world.quotes.get("RELIANCE")
    assert (q.open_paise, q.high_paise, q.low_paise, q.volume) == (128_000, 131_000, 120_000, 11)


def test_the_first_tick_of_a_new_session_resets_open_and_takes_yesterdays_last_price_as_prev_close(
    world: World,
) -> None:
    # Given yesterday's quote closing at 1310.00
    world.processor.process(_batch()[:2])
    # When today's first tick (no open/prev_close from the feed) arrives
    next_day = ist_ms(2026, 11, 24, 9, 15, 1)
    world.processor.process([make_tick("RELIANCE", 3, next_day, ltp=125_000, qty=1, volume=1)])
    # Then the session restarts: open = first price, prev close = yesterday's last, volume restarts
    q = world.quotes.get("RELIANCE")
    assert (q.session_date, q.open_paise, q.prev_close_paise) == ("2026-11-24", 125_000, 131_000)
    assert (q.high_paise, q.low_paise, q.volume) == (125_000, 125_000, 1)


def test_a_conflicting_writer_is_reported_and_its_candles_not_counted(world: World) -> None:
    # Given another consumer moves the quote between every read and write of ours (the processor re-reads
    # and retries a conflicting instrument a few times before it reports it)
    real_apply = world.quotes.apply

    def racing_apply(quote, prev_seq, candles):
        world.quotes.items[quote.symbol] = quote.model_copy(update={"seq": (prev_seq or 0) + 99})
        return real_apply(quote, prev_seq, candles)

    world.quotes.apply = racing_apply
    # When a batch is processed / Then the conditional write fails and is counted as a conflict
    summary = world.processor.process(_batch()[2:])
    assert (summary.conflicts, summary.candles_written) == (1, 0)


def test_a_crossing_alert_fires_once_with_a_deterministic_trigger_and_outbox_event(world: World) -> None:
    # Given RELIANCE last traded at 1290.00 and an alert "crosses above 1300.00"
    world.processor.process(_batch()[:1])
    alert = make_alert(level=130_000)
    world.alerts.create(alert)
    # When the next tick trades at 1310.00
    batch = [make_tick("RELIANCE", 2, T0 + 2_000, ltp=131_000)]
    summary = world.processor.process(batch)
    # Then the alert is triggered, with the tick-derived trigger id, and its event is in the outbox
    assert summary.triggers == 1
    tid = trigger_id(alert.alert_id, "RELIANCE-2")
    stored = world.alerts.get("ten_a", alert.alert_id)
    assert (stored.status, stored.trigger_id, stored.triggered_ms) == (
        AlertStatus.TRIGGERED,
        tid,
        world.clock.now,
    )
    detail_type, detail = world.alerts.outbox[tid]
    assert detail_type == ALERT_TRIGGERED
    assert (detail["level"], detail["price"], detail["previous_price"]) == ("1300.00", "1310.00", "1290.00")
    # And a retry of the same batch fires nothing more
    assert world.processor.process(batch).triggers == 0
    assert len(world.alerts.outbox) == 1


def test_a_trigger_goes_on_the_bus_at_once_and_is_marked_so_the_relay_skips_it() -> None:
    # Given a processor with the fast path (the deployed wiring) and an alert "crosses above 1300.00"
    bus, marks = RecordingEventPublisher(), InMemoryOutboxMarks()
    world = World(OutboxFastPath(bus, marks))
    world.processor.process(_batch()[:1])
    alert = make_alert(level=130_000)
    world.alerts.create(alert)
    # When the crossing tick is processed
    batch = [make_tick("RELIANCE", 2, T0 + 2_000, ltp=131_000)]
    summary = world.processor.process(batch)
    # Then its event went out in the same invocation, with the outbox row's id, type and detail, and is marked
    tid = trigger_id(alert.alert_id, "RELIANCE-2")
    assert (summary.triggers, summary.published_at_once) == (1, 1)
    assert bus.calls == [[(tid, ALERT_TRIGGERED, world.alerts.outbox[tid][1])]]
    assert marks.marks == {tid: world.clock.now}
    # And a retried batch neither fires nor publishes again
    assert world.processor.process(batch).published_at_once == 0
    assert len(bus.calls) == 1


def test_a_failed_fast_path_does_not_fail_the_batch_the_outbox_still_holds_the_event() -> None:
    world = World(OutboxFastPath(RecordingEventPublisher(down=True), InMemoryOutboxMarks()))
    world.processor.process(_batch()[:1])
    world.alerts.create(make_alert(level=130_000))
    summary = world.processor.process([make_tick("RELIANCE", 2, T0 + 2_000, ltp=131_000)])
    assert (summary.triggers, summary.published_at_once, len(world.alerts.outbox)) == (1, 0, 1)
    assert world.quotes.get("RELIANCE").ltp_paise == 131_000  # the batch's writes went through


def test_an_alert_on_another_symbol_does_not_fire(world: World) -> None:
    world.alerts.create(make_alert(symbol="INFY", condition=AlertCondition.ABOVE, level=1))
    assert world.processor.process(_batch()).triggers == 0
    assert world.alerts.outbox == {}
