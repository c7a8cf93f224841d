"""The demo feed's bars never mix with market data: kept apart in the candle merge, skipped by the loaders."""

from __future__ import annotations

from mantra.clock import ManualClock
from mantra.domain import Candle
from mantra.market.history import HistoryLoader
from mantra.market.ticks import TickProcessor
from market_fakes import T0, Candles, NoAlerts, Quotes, tick


def _world() -> tuple[Quotes, TickProcessor]:
    quotes = Quotes()
    return quotes, TickProcessor(quotes, Candles(quotes.candles), NoAlerts(), ManualClock(T0), ("1m", "1d"))


def _day_bar(quotes: Quotes) -> Candle:
    return next(c for k, c in quotes.candles.items() if k[1] == "1d")


def test_demo_ticks_make_demo_bars_and_never_touch_a_real_one() -> None:
    quotes, proc = _world()
    proc.process([tick("A", 1, T0 + 1, 10_000, 5).model_copy(update={"source": "demo"})])
    assert {c.source for c in quotes.candles.values()} == {"demo"}
    real = _day_bar(quotes).model_copy(update={"source": "nse_eod", "volume": 999, "close_paise": 12_345})
    quotes.candles[("A", "1d", real.start_ms)] = real
    # a fresh consumer (it reads the stored bars rather than remembering what it wrote)
    proc = TickProcessor(quotes, Candles(quotes.candles), NoAlerts(), ManualClock(T0), ("1m", "1d"))
    proc.process([tick("A", 2, T0 + 2, 10_050, 5).model_copy(update={"source": "demo"})])
    assert _day_bar(quotes) == real  # the exchange's bar as published


def test_a_live_tick_replaces_a_demo_bar_instead_of_adding_to_it() -> None:
    quotes, proc = _world()
    proc.process([tick("A", 1, T0 + 1, 10_000, 500).model_copy(update={"source": "demo"})])
    proc.process([tick("A", 2, T0 + 2, 10_100, 7, volume=7)])
    # the demo counter is no base for the exchange's: the live bar holds the day's cumulative, 7
    day = _day_bar(quotes)
    assert (day.source, day.volume, day.open_paise) == ("live", 7, 10_100)


def test_loaders_skip_demo_bars() -> None:
    quotes, proc = _world()
    proc.process(
        [tick("A", s, T0 + s * 60_000, 10_000 + s, 5).model_copy(update={"source": "demo"}) for s in (1, 2)]
    )
    assert HistoryLoader(Candles(quotes.candles)).series("A", "1m", 10, T0 + 10 * 60_000) == []
