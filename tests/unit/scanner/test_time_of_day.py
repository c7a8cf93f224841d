"""Volume and OI spikes against the same time of day in earlier sessions, not against the bars just before."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from mantra.clock import IST
from mantra.quant.indicators import ta
from mantra.quant.indicators._columns import shift
from mantra.quant.patterns import time_of_day
from mantra.quant.scanner.frame import Frame

SESSIONS = [
    date(2025, 2, 3) + timedelta(days=d)
    for d in range(14)
    if (date(2025, 2, 3) + timedelta(days=d)).weekday() < 5
]


def _index(days: list[date], minutes: int = 5) -> np.ndarray:
    out = []
    for d in days:
        start = datetime.combine(d, time(9, 15), tzinfo=IST)
        for k in range(375 // minutes):
            out.append(int((start + timedelta(minutes=k * minutes)).timestamp() * 1000))
    return np.asarray(out, dtype=np.int64)


def _profile(index: np.ndarray, rng: np.random.Generator, cols: int) -> np.ndarray:
    """U-shaped intraday volume: the open's bar ten times a midday bar, the close's four times."""
    slot = ((index + 19_800_000) % 86_400_000 - (9 * 60 + 15) * 60_000) // 300_000
    shape = 1.0 + 9.0 * (slot == 0) + 3.0 * (slot == slot.max())
    return np.asfortranarray(shape[:, None] * 10_000 * rng.uniform(0.8, 1.2, (index.size, cols)))


def test_the_opening_bar_is_judged_against_earlier_openings() -> None:
    index = _index(SESSIONS)
    vol = _profile(index, np.random.default_rng(7), 3)
    last_open = len(index) - 75  # the last session's 09:15 bar
    midday = last_open + 20
    vol[midday, 1] *= 5  # a real spike at 10:55 on the last day, instrument 1 only

    ours = time_of_day.volume_spike(vol, index, "5m", 3.0, 5)
    naive = vol > 3.0 * shift(ta.sma(vol, 5), 1)  # the old rule: the five bars just before

    assert naive[last_open].all()  # against the bars before it, every opening bar looks unusual
    assert not ours[last_open].any()
    assert ours[midday, 1] and not ours[midday, 0] and not ours[midday, 2]
    assert ours[last_open:].sum() == 1


def test_baseline_is_the_mean_of_the_same_slot_in_the_previous_sessions() -> None:
    index = _index(SESSIONS)
    vol = _profile(index, np.random.default_rng(3), 2)
    base = time_of_day.baseline(vol, index, "5m", 4)
    per_day = vol.reshape(len(SESSIONS), 75, 2)
    expect = per_day[-5:-1].mean(axis=0)  # the four sessions before the last, slot by slot
    np.testing.assert_allclose(base.reshape(len(SESSIONS), 75, 2)[-1], expect, rtol=1e-12)
    assert np.isnan(base[: 4 * 75]).all()  # not enough earlier sessions yet


def test_a_session_missing_a_slot_is_stepped_over() -> None:
    days = SESSIONS[:7]
    index = _index(days)
    vol = _profile(index, np.random.default_rng(5), 1)
    keep = np.ones(index.size, dtype=bool)
    keep[5 * 75 + 60 :] = False  # the sixth session ended early (no bars after 14:15)
    keep[6 * 75 :] = True
    index, vol = index[keep], np.asfortranarray(vol[keep])
    base = time_of_day.baseline(vol, index, "5m", 4)
    last = index.size - 75
    slot_70 = vol[[i for i in range(index.size) if (index[i] - index[last]) % 86_400_000 == 70 * 300_000]][
        :, 0
    ]
    # the last session's 15:05 bar: the four earlier sessions that had a 15:05 bar (the short day skipped)
    np.testing.assert_allclose(base[last + 70, 0], slot_70[-5:-1].mean(), rtol=1e-12)


def test_daily_bars_compare_with_the_bars_before() -> None:
    index = np.asarray(
        [int(datetime.combine(d, time(0, 0), tzinfo=IST).timestamp() * 1000) for d in SESSIONS],
        dtype=np.int64,
    )
    vol = np.asfortranarray(np.random.default_rng(1).uniform(1e5, 2e5, (index.size, 4)))
    vol[-1, 2] = 9e5
    ours = time_of_day.volume_spike(vol, index, "1d", 3.0, 5)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(ours, vol > 3.0 * shift(ta.sma(vol, 5), 1))
    assert ours[-1, 2] and ours[-1].sum() == 1


def test_no_look_ahead() -> None:
    index = _index(SESSIONS)
    vol = _profile(index, np.random.default_rng(11), 2)
    before = time_of_day.unusual(vol, index, "5m", 2.0, 5)
    later = vol.copy(order="F")
    later[-75:] *= 50  # the last session changes
    after = time_of_day.unusual(later, index, "5m", 2.0, 5)
    np.testing.assert_array_equal(before[:-75], after[:-75])


@pytest.mark.parametrize("tf,sessions,bars", [("1d", 20, 22), ("5m", 20, 21 * 75), ("1m", 5, 6 * 375)])
def test_lookback_holds_enough_sessions(tf: str, sessions: int, bars: int) -> None:
    assert time_of_day.sessions_lookback(tf, sessions) == bars


def test_scanner_unusual_oi_reads_the_frame_oi() -> None:
    from mantra.quant.scanner.functions import FUNCTIONS

    index = _index(SESSIONS)
    oi = np.cumsum(_profile(index, np.random.default_rng(2), 2) * 0.01, axis=0)
    last = index.size - 40
    oi[last:, 0] += 50_000  # a block of new positions in instrument 0 at 12:35 on the last day
    ones = np.ones((index.size, 2))
    frame = Frame("5m", index, ones, ones, ones, ones, ones, np.asfortranarray(oi))

    class Ctx:
        def __init__(self, f: Frame) -> None:
            self.frame = f

    hits = FUNCTIONS["unusual_oi"].kernel(Ctx(frame), 8.0, 5)
    assert hits[last, 0] and not hits[last, 1]
    assert hits[last + 1 :].sum() == 0
