"""The event API: a strategy sees bars up to now only, and reading the future is impossible, not discouraged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import talib
from mantra.quant.backtest import BacktestConfig, BacktestError, Strategy, run_backtest
from mantra.quant.backtest.events import LookAheadError
from quant_helpers import random_bars


def _run(cls: type[Strategy], t: int = 60, n: int = 1) -> Any:
    return run_backtest(random_bars(t, n, seed=9), cls, {}, BacktestConfig())


def test_a_strategy_holds_no_bars_object() -> None:
    # Given a strategy that looks for the whole Bars on itself
    seen: dict[str, object] = {}

    class Snoop(Strategy):
        def next(self) -> None:
            seen["bars"] = getattr(self, "bars", None)
            seen["symbols"] = self.symbols

    # When it runs
    _run(Snoop)
    # Then there is no self.bars to read future bars from, only the symbols' names
    assert seen["bars"] is None
    assert seen["symbols"] == ("ASSET",)


@pytest.mark.parametrize("name", ["close_full", "open_full", "high_full", "low_full", "volume_full"])
def test_full_series_cannot_be_read_in_next(name: str) -> None:
    # Given a strategy that reads a whole-series handle directly, by index and as an array
    class ReadFull(Strategy):
        def next(self) -> None:
            full = getattr(self.data, name)
            if self.t == 5:
                _ = full[self.t + 1]

    class ArrayFull(Strategy):
        def next(self) -> None:
            _ = np.asarray(getattr(self.data, name))

    # When they run / Then both raise LookAheadError: the handle has no readable values
    with pytest.raises(LookAheadError, match=r"self\.I"):
        _run(ReadFull)
    with pytest.raises(LookAheadError):
        _run(ArrayFull)


def test_data_arrays_end_at_the_current_bar_and_their_base_holds_no_future_bar() -> None:
    # Given a strategy that keeps what self.data.close (and its numpy base) show on bar 20
    bars = random_bars(80, seed=9)
    kept: dict[str, Any] = {}

    class Keep(Strategy):
        def next(self) -> None:
            if self.t == 20:
                c = self.data.close
                kept["len"] = c.shape[0]
                kept["last"] = float(c[-1])
                kept["base"] = np.array(c.base if c.base is not None else c, copy=True)
                kept["writeable"] = c.flags.writeable

    # When it runs
    run_backtest(bars, Keep, {}, BacktestConfig())
    # Then it saw 21 bars ending at bar 20, read-only, and no later close exists anywhere in its memory
    assert kept["len"] == 21 and kept["last"] == bars.close[20, 0]
    assert kept["writeable"] is False
    future = bars.close[21:, 0]
    assert not np.isin(future, kept["base"]).any()


def test_other_symbols_data_also_ends_now() -> None:
    # Given a two-symbol strategy that reads the second symbol's highs
    lens: list[tuple[int, int]] = []

    class Two(Strategy):
        def next(self) -> None:
            lens.append((self.t, self.symbol(1).high.shape[0]))

    # When it runs
    _run(Two, 40, 2)
    # Then on every bar it sees exactly the bars up to that one
    assert lens == [(t, t + 1) for t in range(40)]


def test_indicator_slices_and_values_are_past_only_copies() -> None:
    # Given an indicator series read by slice and .values on bar 10
    got: dict[str, Any] = {}

    class Slices(Strategy):
        def init(self) -> None:
            self.c = self.I(lambda x: x, self.data.close_full)

        def next(self) -> None:
            if self.t == 10:
                got["all"] = self.c[:]
                got["values"] = self.c.values
                got["tail"] = self.c[-3:]

    bars = random_bars(50, seed=9)
    # When it runs
    run_backtest(bars, Slices, {}, BacktestConfig())
    # Then each ends at bar 10 and their memory holds no later value
    np.testing.assert_array_equal(got["all"], bars.close[:11, 0])
    np.testing.assert_array_equal(got["tail"], bars.close[8:11, 0])
    for arr in (got["all"], got["values"]):
        base = arr.base if arr.base is not None else arr
        assert not np.isin(bars.close[11:, 0], np.asarray(base)).any()


@pytest.mark.parametrize(
    "leaky",
    [
        lambda x: np.roll(x, -1),  # tomorrow's close
        lambda x: (x - x.mean()) / x.std(),  # a full-sample normalisation
        lambda x: np.convolve(x, np.ones(5) / 5, mode="same"),  # a centred moving average
    ],
    ids=["shifted", "normalised", "centred"],
)
def test_an_indicator_that_looks_ahead_is_refused(leaky: Any) -> None:
    # Given a strategy whose indicator uses later bars
    class Leaky(Strategy):
        def init(self) -> None:
            self.x = self.I(leaky, self.data.close_full)

    # When it runs / Then the indicator is refused before any decision
    with pytest.raises(LookAheadError, match="looks ahead"):
        _run(Leaky, 200)


def test_causal_indicators_are_accepted_and_equal_talib() -> None:
    # Given causal TA-Lib indicators on close, high, low
    out: dict[str, Any] = {}
    bars = random_bars(300, seed=9)

    class Causal(Strategy):
        def init(self) -> None:
            self.sma = self.I(talib.SMA, self.data.close_full, 20)
            self.atr = self.I(talib.ATR, self.data.high_full, self.data.low_full, self.data.close_full, 14)
            self.ema = self.I(talib.EMA, self.data.close_full, timeperiod=10)

        def next(self) -> None:
            if self.t == 299:
                out["sma"], out["atr"], out["ema"] = self.sma[-1], self.atr[-1], self.ema[-1]

    # When it runs
    run_backtest(bars, Causal, {}, BacktestConfig())
    # Then the values are TA-Lib's on the whole series
    c, h, lo = bars.close[:, 0], bars.high[:, 0], bars.low[:, 0]
    assert out["sma"] == pytest.approx(talib.SMA(c, 20)[-1])
    assert out["atr"] == pytest.approx(talib.ATR(h, lo, c, 14)[-1])
    assert out["ema"] == pytest.approx(talib.EMA(c, timeperiod=10)[-1])


def test_changing_future_bars_changes_no_decision_before_them() -> None:
    # Given an event strategy that trades on its indicators and the raw closes
    class Trader(Strategy):
        def init(self) -> None:
            self.f = self.I(talib.SMA, self.data.close_full, 5)

        def next(self) -> None:
            c = self.data.close
            if self.t < 6:
                return
            if self.position() == 0 and c[-1] > self.f[-1]:
                self.buy()
            elif self.position() > 0 and c[-1] < self.f[-1]:
                self.close()

    bars = random_bars(300, seed=2)
    c2 = bars.close.copy()
    c2[200:] *= 1.5
    from mantra.quant.backtest import Bars

    bumped = Bars(bars.index, bars.open, np.maximum(bars.high, c2), bars.low, c2, bars.volume)
    # When the same strategy runs on bars that differ only from bar 200 on
    a = run_backtest(bars, Trader, {}, BacktestConfig())
    b = run_backtest(bumped, Trader, {}, BacktestConfig())
    # Then the trades entered before bar 200 and the equity up to bar 199 are the same
    ea, eb = a.sim.trades, b.sim.trades
    before = ea.entry_bar < 200
    np.testing.assert_array_equal(ea.entry_bar[before], eb.entry_bar[eb.entry_bar < 200])
    np.testing.assert_allclose(a.equity[:200], b.equity[:200])
    assert int(before.sum()) > 5


def test_unknown_symbol_is_a_clear_error() -> None:
    # Given a strategy that asks for a symbol the backtest does not have
    class Wrong(Strategy):
        def next(self) -> None:
            self.symbol(3)

    # When it runs / Then the error names the symbols it trades
    with pytest.raises(BacktestError, match="trades ASSET"):
        _run(Wrong)
