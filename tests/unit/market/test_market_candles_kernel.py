"""The numpy candle kernel gives exactly the pure-Python reference's deltas, in any arrival order."""

from __future__ import annotations

import random

import numpy as np
import pytest
from mantra.market.candle_kernel import bucket_starts
from mantra.market.candles import aggregate, aggregate_fast
from mantra.market.timeframes import bucket_start_ms
from market_fakes import T0, ist_ms, tick

TFS = ("1m", "5m", "15m", "1h", "1d")


def _stream(seed: int, n: int, symbols: int = 4, span_ms: int = 3 * 3_600_000):
    rng = random.Random(seed)
    out, seqs = [], dict.fromkeys(range(symbols), 0)
    ts = sorted(
        T0 - 50 * 60_000 + rng.randrange(span_ms) for _ in range(n)
    )  # from pre-open, with equal times
    for t in ts:
        s = rng.randrange(symbols)
        seqs[s] += 1
        out.append(tick(f"S{s}", seqs[s], t - t % 500, rng.randint(9_000, 11_000), rng.randint(1, 50)))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_reference_for_any_order(seed: int) -> None:
    ticks = _stream(seed, 3_000)
    random.Random(seed).shuffle(ticks)
    watermarks = {"S0": T0 + 3_600_000, "S1": T0}
    assert aggregate_fast(ticks, TFS, watermarks) == aggregate(ticks, TFS, watermarks)


def test_kernel_buckets_match_the_session_aligned_reference_across_days() -> None:
    stamps = [ist_ms(2026, 11, 23, 0, 0), ist_ms(2026, 11, 23, 9, 14, 59), ist_ms(2026, 11, 23, 9, 15), ist_ms(2026, 11, 23, 23, 59, 59, 999), ist_ms(2027, 3, 1, 15, 29)]  # fmt: skip
    for tf in TFS:
        got = bucket_starts(np.array(stamps, dtype=np.int64), tf).tolist()
        assert got == [bucket_start_ms(t, tf) for t in stamps], tf


def test_a_timeframe_that_does_not_nest_is_aggregated_from_the_ticks() -> None:
    # Given 5m and 1d only (5m is the finest) and ticks with huge sequence gaps (order keys by sort)
    ticks = [tick("A", s * 10**12, T0 + s * 7_000, 100 + s) for s in range(1, 200)]
    random.Random(1).shuffle(ticks)
    assert aggregate_fast(ticks, ("5m", "1d")) == aggregate(ticks, ("5m", "1d"))


def test_late_ticks_are_counted_per_timeframe() -> None:
    # Given a symbol whose newest applied tick is at 10:02:00.5 and a tick from 10:00:30
    late = tick("A", 5, T0 + 30_000, 100)
    deltas = aggregate_fast([late], ("1m", "5m"), {"A": T0 + 120_500})
    # Then its 1m candle (closed at 10:01 + 2 s grace) counts it late; its 5m candle is still open
    assert deltas[("A", "1m", T0)].late == 1 and deltas[("A", "5m", T0)].late == 0
    # And within the grace period it is not late
    assert aggregate_fast([late], ("1m",), {"A": T0 + 61_999})[("A", "1m", T0)].late == 0
