"""Candle volume on the brokers' real tick shapes: the change in the day's cumulative traded volume, exact
through session starts, feed restarts, re-sent snapshots, reorders across batches and retried batches."""

from __future__ import annotations

import csv
import random

import broker_tape as bt
import timebase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mantra.clock import ManualClock
from mantra.domain import Candle, Tick
from mantra.feed.base import Stamper
from mantra.market.ticks import SEEN_WINDOW, BatchSummary, TickProcessor
from mantra.market.timeframes import bucket_start_ms
from market_fakes import Candles, NoAlerts, Quotes
from nse_files import nse_data_dir

TFS = ("1m", "5m", "15m", "1h", "1d")


class World:
    def __init__(self) -> None:
        self.quotes = Quotes()
        self.processor = TickProcessor(
            self.quotes,
            Candles(self.quotes.candles),
            NoAlerts(),
            ManualClock(timebase.NOW_MS),
            TFS,
            max_workers=2,
        )

    def run(self, batches: list[list[Tick]]) -> list[BatchSummary]:
        return [self.processor.process(b) for b in batches]

    def bars(self) -> dict[tuple[str, str, int], Candle]:
        # late_ticks says how a candle was built, not what it is: compare everything else
        return {k: c.model_copy(update={"late_ticks": 0}) for k, c in self.quotes.candles.items()}

    def volumes(self, tf: str) -> dict[tuple[str, int], int]:
        return {(s, start): c.volume for (s, f, start), c in self.quotes.candles.items() if f == tf}


def _cut(ticks: list[Tick], rng: random.Random, max_size: int) -> list[list[Tick]]:
    out, i = [], 0
    while i < len(ticks):
        k = rng.randint(1, max_size)
        out.append(ticks[i : i + k])
        i += k
    return out


def _messy(ticks: list[Tick], rng: random.Random, late: float, dup: float) -> list[Tick]:
    """A share of ticks held back by up to 2 s of exchange time (so they arrive after their successors, in
    other batches), and a share delivered twice (a producer retry: same record, same sequence)."""
    keyed = []
    for n, t in enumerate(ticks):
        keyed.append((t.ts_ms + (rng.uniform(0, 2_000) if rng.random() < late else 0), n, t))
        if rng.random() < dup:
            keyed.append((t.ts_ms + rng.uniform(0, 2_000), n, t))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [t for _, _, t in keyed]


def test_kite_and_smartapi_ticks_give_the_exchanges_volume_per_bar_through_a_restart_and_resends() -> None:
    prints = bt.tape(seed=1, minutes=45)
    restart = bt.session_ms(timebase.SESSION_DAY, 9, 37)
    lost = bt.outage(prints, restart)
    for broker in ("kite", "angel"):
        # Given eight NSE and BSE instruments' ticks as the broker sends them: gaps, a feed restart at 09:37
        # (sequences jump, 20 s of prints never arrive, the cumulative carries on), a tenth re-sent
        ticks = bt.deliver(prints, broker, restart_at_ms=restart, resend=0.1, seed=2)
        assert max(t.seq for t in ticks) - min(t.seq for t in ticks) > 10**9  # the restart's jump
        # When they are processed in Kinesis batches
        world = World()
        world.run(_cut(ticks, random.Random(3), 400))
        # Then every bar of every timeframe holds what the exchange says it traded
        for tf in TFS:
            assert world.volumes(tf) == bt.true_volumes(prints, tf, lost), (broker, tf)
        # And each instrument's 1m bars sum to its last cumulative, the day's total so far
        for inst, _ in bt.INSTRUMENTS:
            day = max(p.cum for p in prints if p.inst.symbol == inst.symbol)
            assert sum(v for (s, _), v in world.volumes("1m").items() if s == inst.symbol) == day
            assert world.quotes.items[inst.symbol].volume == day


def test_the_first_tick_of_a_session_counts_its_whole_cumulative() -> None:
    # Given a feed that connects at 11:00, when the day's cumulative already stands at 1,234,567
    inst = bt.INSTRUMENTS[0][0]
    t0 = bt.session_ms(timebase.SESSION_DAY, 11, 0, 5)
    prints = [bt.Print(inst, t0, 128_500, 1_234_567, 10), bt.Print(inst, t0 + 1_000, 128_505, 1_234_600, 33)]
    world = World()
    world.run([bt.deliver(prints, "angel")])
    # Then the 11:00 bar, and the day, hold the whole cumulative
    assert world.volumes("1m") == {(inst.symbol, bucket_start_ms(t0, "1m")): 1_234_600}
    assert list(world.volumes("1d").values()) == [1_234_600]
    # And the next session starts from its own first cumulative, not from yesterday's
    nxt = bt.session_ms(timebase.trading_monday(timebase.SESSION_DAY), 9, 15, 2)
    world.run([bt.deliver([bt.Print(inst, nxt, 129_000, 5_000, 5_000)], "angel")])
    assert world.volumes("1d")[(inst.symbol, bucket_start_ms(nxt, "1d"))] == 5_000


def test_a_late_tick_between_its_neighbours_splits_the_volume_between_their_bars() -> None:
    inst = bt.INSTRUMENTS[1][0]
    t = bt.session_ms(timebase.SESSION_DAY, 10, 0)
    # Given 10:00:59.5 (cum 100) and 10:01:00.2 (cum 130) applied, 10:00:59.9 (cum 120) held back
    a, late, b = (
        bt.Print(inst, t + ms, 150_000, cum, 5) for ms, cum in ((59_500, 100), (59_900, 120), (60_200, 130))
    )
    ticks = bt.deliver([a, late, b], "angel")
    world = World()
    world.run([[ticks[0], ticks[2]]])
    assert world.volumes("1m") == {(inst.symbol, t): 100, (inst.symbol, t + 60_000): 30}
    # When the late tick arrives in a later batch
    [summary] = world.run([[ticks[1]]])
    # Then its bar gains 20 and the next bar, which had counted them, gives them back: both are written
    assert world.volumes("1m") == {(inst.symbol, t): 120, (inst.symbol, t + 60_000): 10}
    assert (summary.applied, summary.reordered, summary.candles_written) == (
        1,
        1,
        2 + 4,
    )  # 2 minutes + 5m..1d
    assert world.volumes("5m") == {(inst.symbol, t): 130}
    # And delivering it again (a retried batch) changes nothing
    before = world.bars()
    [again] = world.run([[ticks[1]]])
    assert (again.applied, again.duplicates) == (0, 1) and world.bars() == before


def test_a_stale_snapshot_with_a_lower_cumulative_adds_nothing_and_takes_nothing_away() -> None:
    inst = bt.INSTRUMENTS[2][0]
    t = bt.session_ms(timebase.SESSION_DAY, 10, 5)
    # Given a snapshot at 10:06 re-sent by the broker with an older, lower cumulative (500 after 700)
    prints = [bt.Print(inst, t + 10_000, 390_000, 500, 5), bt.Print(inst, t + 70_000, 390_100, 700, 5)]
    stale = bt.Print(inst, t + 75_000, 390_050, 500, 5)
    world = World()
    world.run([bt.deliver([*prints, stale], "kite")])
    # Then no bar goes negative and the day still totals the highest cumulative
    assert world.volumes("1m") == {(inst.symbol, t): 500, (inst.symbol, t + 60_000): 200}
    assert list(world.volumes("1d").values()) == [700]


def test_a_tick_beyond_the_window_of_remembered_sequences_is_counted_too_old_never_applied() -> None:
    inst = bt.INSTRUMENTS[4][0]
    t = bt.session_ms(timebase.SESSION_DAY, 10, 0)
    prints = [bt.Print(inst, t + i * 10, 76_000 + i % 7, i + 1, 1) for i in range(SEEN_WINDOW + 50)]
    ticks = bt.deliver(prints, "angel")
    held = ticks[3]  # more than SEEN_WINDOW ticks of its instrument arrive before it
    world = World()
    world.run([ticks[:3], ticks[4:]])
    day = dict(world.volumes("1d"))
    [summary] = world.run([[held]])
    assert (summary.applied, summary.too_old) == (0, 1)  # counted (the handler logs it and a metric)
    assert world.volumes("1d") == day  # and never counted twice: its volume is in the cumulative after it


def test_ticks_of_an_instrument_missing_from_the_master_are_processed() -> None:
    # Given a tick for a symbol no instrument master knows (a new listing)
    odd = bt.Print(bt.INSTRUMENTS[0][0].model_copy(update={"symbol": "NEWLISTING", "token": "999999"}), bt.session_ms(timebase.SESSION_DAY, 10, 0), 1_000, 42, 42)  # fmt: skip
    world = World()
    [summary] = world.run([bt.deliver([odd], "angel")])
    assert summary.applied == 1 and world.volumes("1m") == {
        ("NEWLISTING", bucket_start_ms(odd.ts_ms, "1m")): 42
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    late=st.floats(0.0, 0.4),
    dup=st.floats(0.0, 0.3),
    batch=st.integers(1, 300),
    retries=st.integers(0, 3),
    broker=st.sampled_from(["kite", "angel"]),
)
def test_any_reordering_and_duplication_within_two_seconds_gives_the_clean_streams_candles(
    seed: int, late: float, dup: float, batch: int, retries: int, broker: str
) -> None:
    prints = bt.tape(seed, instruments=bt.INSTRUMENTS[::3], minutes=6, every_ms=(200, 1_500))
    clean = bt.deliver(prints, broker, resend=0.05, seed=seed)
    # Given the clean stream processed in order
    ref = World()
    ref.run(_cut(clean, random.Random(seed), 50))
    # When the same ticks arrive held back up to 2 s, some twice, in other batches, some batches redelivered
    rng = random.Random(seed + 1)
    batches = _cut(_messy(clean, rng, late, dup), rng, batch)
    batches += rng.sample(batches, min(retries, len(batches)))
    world = World()
    summaries = world.run(batches)
    # Then every candle of every timeframe is the clean stream's: prices, ticks and volume
    assert world.bars() == ref.bars()
    assert world.volumes("1m") == bt.true_volumes(prints, "1m")
    assert sum(s.applied for s in summaries) == len(clean)
    assert sum(s.too_old + s.conflicts for s in summaries) == 0


def _report_totals(symbols: list[str]) -> tuple[str, dict[str, int]]:
    path = sorted((nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"))[-1]
    with path.open(newline="") as f:
        rows = {r["SYMBOL"]: r for r in csv.DictReader(f, skipinitialspace=True) if r["SERIES"] == "EQ"}
    return path.name, {s: int(rows[s]["TTL_TRD_QNTY"]) for s in symbols}


def test_a_days_one_minute_volumes_sum_to_the_bhavcopy_total_through_restart_resends_and_reorders() -> None:
    # Given the day's traded quantity of three symbols from a real NSE CM bhavcopy (TTL_TRD_QNTY)
    name, totals = _report_totals(["RELIANCE", "INFY", "SBIN"])
    insts = [(i, p) for i, p in bt.INSTRUMENTS if i.symbol in totals]
    # And a whole session of their ticks (09:15-15:30) whose cumulative ends at that total
    prints = bt.tape(7, instruments=insts, minutes=375, every_ms=(1_500, 4_000), totals=totals)
    restart = bt.session_ms(timebase.SESSION_DAY, 12, 40)
    ticks = bt.deliver(prints, "angel", restart_at_ms=restart, resend=0.05, seed=8)
    rng = random.Random(9)
    batches = _cut(_messy(ticks, rng, late=0.1, dup=0.05), rng, 500)
    # When they are processed
    world = World()
    summaries = world.run(batches[:8] + batches[5:8] + batches[8:])  # Kinesis retries 5-7 at once
    # Then each symbol's 1m bars sum to the report's total, and so does its 1d bar
    assert sum(s.too_old for s in summaries) == 0
    for symbol, total in totals.items():
        assert sum(v for (s, _), v in world.volumes("1m").items() if s == symbol) == total, (name, symbol)
        assert [v for (s, _), v in world.volumes("1d").items() if s == symbol] == [total], (name, symbol)
    assert world.volumes("1m") == bt.true_volumes(prints, "1m", bt.outage(prints, restart))


def test_the_stamper_hands_out_dense_sequences_that_rise_across_a_restart() -> None:
    clock = ManualClock(timebase.SESSION_10AM)
    first = Stamper(clock)
    seqs = [first.next("2885")[1] for _ in range(5)] + [first.next("1594")[1]]
    assert seqs[:5] == list(range(seqs[0], seqs[0] + 5))  # one per tick, not one per microsecond
    clock.advance(1)  # a restart a millisecond later still starts above everything handed out before
    again = Stamper(clock)
    assert again.next("2885")[1] > max(seqs) and again.next("1594")[1] > max(seqs)


class LaggingReads(Candles):
    """Reads that do not show writes yet (DynamoDB's default reads are eventually consistent)."""

    def get_many(self, keys):  # type: ignore[no-untyped-def]
        return {}

    def range(self, symbol, timeframe, start_ms, end_ms, limit):  # type: ignore[no-untyped-def]
        return []


def test_a_late_tick_is_split_exactly_by_a_warm_consumer_even_when_reads_lag_its_own_writes() -> None:
    inst = bt.INSTRUMENTS[3][0]
    t = bt.session_ms(timebase.SESSION_DAY, 11, 0)
    prints = [
        bt.Print(inst, t + ms, 171_500, cum, 5) for ms, cum in ((59_000, 40), (59_800, 55), (61_000, 90))
    ]
    ticks = bt.deliver(prints, "kite")
    # Given a consumer over a store whose reads do not yet show what it just wrote
    quotes = Quotes()
    proc = TickProcessor(quotes, LaggingReads(quotes.candles), NoAlerts(), ManualClock(timebase.NOW_MS), TFS)
    proc.process([ticks[0], ticks[2]])
    # When the held-back tick lands in the earlier minute
    proc.process([ticks[1]])
    # Then both minutes are right: it keeps its own recent bars rather than trusting the lagging read
    got = {s: c.volume for (_, tf, s), c in quotes.candles.items() if tf == "1m"}
    assert got == {t: 55, t + 60_000: 35}
