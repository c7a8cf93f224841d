"""TickProcessor on messy streams: duplicated, reordered and split ticks give exactly the clean candles."""

from __future__ import annotations

import random

import pytest
from mantra.clock import ManualClock
from mantra.domain import Candle, Tick
from mantra.market.ticks import SEEN_WINDOW, TickProcessor
from market_fakes import T0, Candles, NoAlerts, Quotes, tick

TFS = ("1m", "5m", "15m", "1h", "1d")


class World:
    def __init__(self) -> None:
        self.quotes = Quotes()
        self.candles = Candles(self.quotes.candles)
        self.processor = TickProcessor(
            self.quotes, self.candles, NoAlerts(), ManualClock(1_795_400_000_000), TFS, max_workers=2
        )

    def run(self, batches: list[list[Tick]]) -> list:
        return [self.processor.process(b) for b in batches]

    def bars(self) -> dict[tuple[str, str, int], Candle]:
        # late_ticks says how a candle was built, not what it is: compare everything else
        return {k: c.model_copy(update={"late_ticks": 0}) for k, c in self.quotes.candles.items()}


def _clean(seed: int, n: int = 1_500) -> list[Tick]:
    rng = random.Random(seed)
    seqs = {"A": 0, "B": 0, "C": 0}
    out = []
    t = T0 - 20 * 60_000
    for _ in range(n):
        t += rng.choice((0, 0, 250, 1_000, 4_000, 30_000))  # equal times too: ties break by sequence
        sym = rng.choice("ABC")
        seqs[sym] += 1
        out.append(tick(sym, seqs[sym], t, rng.randint(9_500, 10_500), rng.randint(1, 20), open_paise=10_000))
    return out


def _batches(ticks: list[Tick], rng: random.Random, max_size: int = 120) -> list[list[Tick]]:
    out, i = [], 0
    while i < len(ticks):
        k = rng.randint(1, max_size)
        out.append(ticks[i : i + k])
        i += k
    return out


@pytest.mark.parametrize("seed", range(8))
def test_shuffled_duplicated_stream_in_random_batches_gives_the_clean_candles(seed: int) -> None:
    rng = random.Random(seed)
    clean = _clean(seed)
    # Given the clean stream processed in order
    ref = World()
    ref.run(_batches(clean, random.Random(99), max_size=50))
    # When the same ticks arrive shuffled, a fifth of them twice, some batches redelivered, in random batches
    messy = clean + rng.sample(clean, len(clean) // 5)
    rng.shuffle(messy)
    batches = _batches(messy, rng)
    batches += rng.sample(batches, 3)  # Kinesis retries of whole batches, later on
    world = World()
    summaries = world.run(batches)
    # Then every candle of every timeframe is exactly the clean stream's (open/close by time, then sequence)
    assert world.bars() == ref.bars()
    # And the quote ends at the newest tick with the session's range and volume
    for sym in "ABC":
        a, b = world.quotes.items[sym], ref.quotes.items[sym]
        assert (a.seq, a.ltp_paise, a.high_paise, a.low_paise, a.volume) == (
            b.seq,
            b.ltp_paise,
            b.high_paise,
            b.low_paise,
            b.volume,
        )
    # And each tick counted once: applied + duplicates covers every delivery, nothing too old or conflicting
    assert sum(s.applied for s in summaries) == len(clean)
    assert sum(s.applied + s.duplicates for s in summaries) == sum(len(b) for b in batches)
    assert sum(s.too_old + s.conflicts for s in summaries) == 0
    assert sum(s.reordered for s in summaries) > 0


def test_a_tick_after_its_candle_closed_is_merged_counted_and_flagged() -> None:
    world = World()
    # Given ticks up to 10:03 applied (cumulative 1 then 9), seq 2 missing
    world.run([[tick("A", 1, T0 + 10_000, 100, 1, volume=1), tick("A", 3, T0 + 180_000, 105, 4, volume=9)]])
    # When seq 2 (10:00:50, price 90, cumulative 5) arrives in a later batch
    [summary] = world.run([[tick("A", 2, T0 + 50_000, 90, 4, volume=5)]])
    # Then it is merged into the closed 10:00 candle, flagged there and in the summary
    c = world.quotes.candles[("A", "1m", T0)]
    assert (c.low_paise, c.close_paise, c.volume, c.ticks, c.late_ticks) == (90, 90, 5, 2, 1)
    # And the 10:03 candle gives up the 4 the late tick brought forward: the bars still sum to 9
    assert world.quotes.candles[("A", "1m", T0 + 180_000)].volume == 4
    assert (summary.applied, summary.reordered, summary.late_ticks, summary.duplicates) == (1, 1, 1, 0)
    assert world.quotes.candles[("A", "5m", T0)].late_ticks == 0  # the 5m candle was still open
    # And the quote keeps the newest price but widens the session low
    q = world.quotes.items["A"]
    assert (q.seq, q.ltp_paise, q.low_paise) == (3, 105, 90)
    # And delivering it again changes nothing
    [again] = world.run([[tick("A", 2, T0 + 50_000, 90, 4, volume=5)]])
    assert (again.applied, again.duplicates) == (0, 1) and world.quotes.candles[("A", "1m", T0)] == c


def test_one_write_per_changed_candle_per_batch_never_per_tick() -> None:
    world = World()
    ticks = [tick("A", s, T0 + s * 100, 100 + s) for s in range(1, 301)]  # 30 s: one candle per timeframe
    [summary] = world.run([ticks])
    assert summary.candles_written == len(TFS) == world.quotes.writes


def test_a_tick_older_than_the_dedupe_window_is_counted_not_applied() -> None:
    world = World()
    world.run([[tick("A", 1, T0, 100)], [tick("A", SEEN_WINDOW + 5, T0 + 1_000, 101)]])
    [summary] = world.run([[tick("A", 3, T0 + 10, 99)]])
    assert (summary.applied, summary.too_old) == (0, 1)


def test_a_concurrent_writer_makes_the_instrument_retry_and_nothing_counts_twice() -> None:
    world = World()
    world.run([[tick("A", 1, T0, 100, 1)]])
    batch = [tick("A", 2, T0 + 1_000, 101, 1)]
    # Given another consumer applies the same batch between our read and our write
    real_apply, other = world.quotes.apply, World()
    other.quotes, other.candles = world.quotes, world.candles
    other.processor = TickProcessor(
        world.quotes, world.candles, NoAlerts(), ManualClock(1_795_400_000_000), TFS, max_workers=1
    )
    raced = []

    def racing(quote, prev_seq, candles):
        if not raced:
            raced.append(True)
            other.processor.process(batch)
        return real_apply(quote, prev_seq, candles)

    world.quotes.apply = racing  # type: ignore[method-assign]
    [summary] = world.run([batch])
    # Then our write conflicts, the re-read finds the tick applied, and the candle counts it once
    assert (summary.retries, summary.conflicts) == (1, 0)
    assert world.quotes.candles[("A", "1m", T0)].volume == 2


def test_a_jump_in_sequence_numbers_applies_every_tick_once_without_blowing_up() -> None:
    # a feed restarted with time-based sequence numbers (the simulated feed uses now_ms * 1000): the jump is
    # ~10^15, far beyond the window; the old shift allocated a number that size (MemoryError mid-batch)
    world = World()
    jump = 1_795_400_000_000 * 1000
    first = [tick("A", seq, T0 + seq, 10_000 + seq, volume=seq) for seq in (1, 2, 3)]
    after = [tick("A", jump + seq, T0 + 100 + seq, 10_100 + seq, volume=3 + seq) for seq in (1, 2)]
    world.run([first + after])  # one batch holding both sides of the jump
    world.run([first + after])  # redelivered whole: nothing is applied twice
    day = next(c for k, c in world.quotes.candles.items() if k[1] == "1d")
    assert day.ticks == 5 and day.volume == 5  # the cumulative carried on across the restart
    world.run([[tick("A", jump + 3, T0 + 200, 10_200, volume=7)]])  # the window keeps working after the jump
    world.run(
        [[tick("A", jump + 3, T0 + 200, 10_200, volume=7), tick("A", jump + 2, T0 + 102, 10_102, volume=5)]]
    )
    day = next(c for k, c in world.quotes.candles.items() if k[1] == "1d")
    assert day.ticks == 6
