"""Incremental candles: order-independent open/close, exact high/low/volume, duplicates once."""

from __future__ import annotations

import itertools

from core_fakes import SESSION_10AM, make_tick
from mantra.market.candles import aggregate, dedupe, settle

T0 = SESSION_10AM  # 10:00:00 IST, the start of a 1m, 5m, 15m bucket


def _ticks():
    # 10:00:05 open 100, 10:00:20 high 130, 10:00:40 low 90, 10:00:55 close 110
    return [
        make_tick(seq=1, ts_ms=T0 + 5_000, ltp=10_000, qty=1, volume=1),
        make_tick(seq=2, ts_ms=T0 + 20_000, ltp=13_000, qty=2, volume=3),
        make_tick(seq=3, ts_ms=T0 + 40_000, ltp=9_000, qty=3, volume=6),
        make_tick(seq=4, ts_ms=T0 + 55_000, ltp=11_000, qty=4, volume=10),
    ]


def _candle(ticks, tf="1m"):
    deltas = aggregate(ticks, [tf])
    assert len(deltas) == 1
    return merge(None, next(iter(deltas.values())))


def merge(stored, delta):  # type: ignore[no-untyped-def]
    """One bar of the session's first series: the volume is the day's cumulative at its last tick."""
    return settle([delta], {} if stored is None else {stored.start_ms: stored}, 0, False)[0]


def test_one_minute_candle_has_open_high_low_close_volume_of_its_ticks() -> None:
    # Given four ticks inside 10:00-10:01, the session's first, cumulative volume 1, 3, 6, 10
    # When aggregated / Then OHLC, the volume (the day's cumulative: 10) and the tick count are exact
    c = _candle(_ticks())
    assert (c.start_ms, c.open_paise, c.high_paise, c.low_paise, c.close_paise) == (
        T0,
        10_000,
        13_000,
        9_000,
        11_000,
    )
    assert (c.volume, c.ticks, c.first_tick_ms, c.last_tick_ms) == (10, 4, T0 + 5_000, T0 + 55_000)


def test_reordered_ticks_in_a_batch_give_the_same_candle() -> None:
    # Given every arrival order of the same ticks / When aggregated / Then the candle is always the same
    expected = _candle(_ticks())
    for order in itertools.permutations(_ticks()):
        assert _candle(list(order)) == expected


def test_reordered_batches_merge_into_the_same_candle() -> None:
    # Given the ticks split into two batches / When the later batch is stored first
    # Then the merge is the same
    ticks = _ticks()
    early, late = aggregate(ticks[:2], ["1m"]), aggregate(ticks[2:], ["1m"])
    key = next(iter(early))
    in_order = merge(merge(None, early[key]), late[key])
    reversed_order = merge(merge(None, late[key]), early[key])
    assert in_order == reversed_order == _candle(ticks)


def test_a_batch_touching_two_buckets_yields_one_delta_per_candle_and_timeframe() -> None:
    # Given ticks at 10:00:30 and 10:01:30 / When aggregated for 1m and 5m
    # Then two 1m deltas and one 5m delta
    ticks = [make_tick(seq=1, ts_ms=T0 + 30_000, ltp=100), make_tick(seq=2, ts_ms=T0 + 90_000, ltp=105)]
    deltas = aggregate(ticks, ["1m", "5m"])
    assert sorted((tf, start - T0) for _, tf, start in deltas) == [("1m", 0), ("1m", 60_000), ("5m", 0)]
    five = deltas[("RELIANCE", "5m", T0)]
    assert (five.open_paise, five.close_paise, five.ticks) == (100, 105, 2)


def test_symbols_never_share_a_candle() -> None:
    ticks = [make_tick("A", 1, T0 + 1, ltp=100), make_tick("B", 1, T0 + 2, ltp=999)]
    deltas = aggregate(ticks, ["1m"])
    assert {k[0]: d.close_paise for k, d in deltas.items()} == {"A": 100, "B": 999}


def test_dedupe_keeps_the_first_of_each_symbol_and_sequence_in_order() -> None:
    a, b = make_tick(seq=1, ltp=100), make_tick(seq=2, ltp=200)
    assert dedupe([a, b, a, a, b]) == [a, b]


def test_aggregate_after_dedupe_counts_a_repeated_tick_once() -> None:
    # Given a batch where the feed repeated a tick / When deduped and aggregated / Then volume counts it once
    ticks = _ticks()
    c = _candle(dedupe([*ticks, ticks[1], ticks[3]]))
    assert (c.volume, c.ticks) == (10, 4)


def test_aggregate_counts_a_tick_repeated_in_the_batch_once() -> None:
    # Given a batch where one tick arrives twice / When aggregated / Then it counts once
    ticks = _ticks()
    c = _candle([*ticks, ticks[1]])
    assert (c.volume, c.ticks) == (10, 4)


def test_merge_into_a_stored_candle_only_moves_open_for_earlier_and_close_for_later_ticks() -> None:
    # Given a stored candle from 10:00:20-10:00:40 (cumulative 3 then 6)
    stored = _candle(_ticks()[1:3])
    # When a delta in the middle arrives (cumulative 5: between its neighbours) / Then open/close stay
    middle = aggregate([make_tick(seq=9, ts_ms=T0 + 30_000, ltp=20_000, qty=2, volume=5)], ["1m"])
    merged = merge(stored, next(iter(middle.values())))
    assert (merged.open_paise, merged.close_paise) == (stored.open_paise, stored.close_paise)
    # And the volume stays the bar's cumulative (the middle tick's trade was already in 6)
    assert (merged.high_paise, merged.volume, merged.ticks) == (20_000, stored.volume, stored.ticks + 1)
