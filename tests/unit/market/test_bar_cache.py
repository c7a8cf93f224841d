"""The daily bar cache a whole-market scan reads: closed sessions from memory, today's bar fresh, and the
same panel as reading the store directly (real NSE bars, with gaps)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from mantra.market.history import HistoryLoader
from mantra.market.timeframes import bucket_start_ms
from mantra.market.universes import Universe
from nse_files import MemoryCandles, daily_candles, symbols_with_gaps
from timebase import TODAY, clock, ist_ms

SYMBOLS = ["RELIANCE", "TCS", "INFY", "HDFCBANK", *symbols_with_gaps()[:4]]
YESTERDAY = TODAY - timedelta(days=1)


class Version:
    def __init__(self) -> None:
        self.n = 0

    def current(self) -> int:
        return self.n


def _setup() -> tuple[MemoryCandles, Version, HistoryLoader, HistoryLoader]:
    store = MemoryCandles(daily_candles(SYMBOLS, ending=YESTERDAY))
    version = Version()
    cached = HistoryLoader(store, version, clock(ist_ms(TODAY, 11, 0)))
    return store, version, cached, HistoryLoader(store)


def _today_bar(store: MemoryCandles, symbol: str, close_paise: int) -> None:
    last = store.latest(symbol, "1d", ist_ms(TODAY), 1)[0]
    store.put_many(
        [
            last.model_copy(
                update={"start_ms": bucket_start_ms(ist_ms(TODAY, 10), "1d"), "close_paise": close_paise}
            )
        ]
    )


def _panel(loader: HistoryLoader, end_ms: int, bars: int = 40) -> np.ndarray:
    uni = Universe("test", tuple(SYMBOLS))
    return loader.load(uni, "1d", {"1d": bars}, end_ms).frame("1d").close


def test_cached_panel_equals_the_store_read_and_reads_the_store_once() -> None:
    _, _, cached, direct = _setup()
    now = ist_ms(TODAY, 11, 0)
    first = _panel(cached, now)
    again = _panel(cached, now)
    np.testing.assert_array_equal(first, _panel(direct, now))
    np.testing.assert_array_equal(again, first)
    assert cached.daily_cache is not None and cached.daily_cache.fetched == len(SYMBOLS)
    assert np.isnan(first).any()  # the gap symbols' missing sessions stay missing


def test_todays_bar_is_read_fresh_on_every_run() -> None:
    store, _, cached, _ = _setup()
    now = ist_ms(TODAY, 11, 0)
    before = _panel(cached, now)
    _today_bar(store, "TCS", 123_456)
    after = _panel(cached, now)
    j = SYMBOLS.index("TCS")
    assert after[-1, j] == 1234.56
    np.testing.assert_array_equal(after[:-1, j], before[1:, j])  # the window moved on by one session
    _today_bar(store, "TCS", 123_400)
    assert _panel(cached, now)[-1, j] == 1234.0


def test_a_history_load_moves_the_version_and_the_cache_reads_again() -> None:
    store, version, cached, direct = _setup()
    now = ist_ms(TODAY, 11, 0)
    _panel(cached, now)
    old = store.latest("INFY", "1d", ist_ms(YESTERDAY, 23), 1)[0]
    store.put_many([old.model_copy(update={"close_paise": old.close_paise + 500})])
    j = SYMBOLS.index("INFY")
    assert _panel(cached, now)[-1, j] == old.close_paise / 100  # not yet told
    version.n += 1
    assert _panel(cached, now)[-1, j] == (old.close_paise + 500) / 100
    np.testing.assert_array_equal(_panel(cached, now), _panel(direct, now))


def test_a_longer_window_reads_more_and_a_past_as_of_reads_the_store() -> None:
    _, _, cached, direct = _setup()
    now = ist_ms(TODAY, 11, 0)
    _panel(cached, now, bars=30)
    np.testing.assert_array_equal(_panel(cached, now, bars=60), _panel(direct, now, bars=60))
    assert cached.daily_cache is not None
    fetched = cached.daily_cache.fetched
    past = ist_ms(YESTERDAY - timedelta(days=10), 23)
    np.testing.assert_array_equal(_panel(cached, past), _panel(direct, past))
    assert cached.daily_cache.fetched == fetched  # as_of scans never go through the cache
