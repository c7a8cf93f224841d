from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from mantra.quant.backtest import (
    BacktestConfig,
    BacktestError,
    Bars,
    Exits,
    FractionalCommission,
    Signals,
    Sizing,
    Strategy,
    indian_costs,
    run_backtest,
    run_signals,
)
from mantra.quant.strategies import get_strategy
from quant_helpers import random_bars


def _sma_signals(bars: Bars) -> Signals:
    return get_strategy("sma_cross").signals(bars, {"fast": 10, "slow": 20})


@pytest.mark.parametrize("costs", [FractionalCommission(0.001), indian_costs("equity_delivery")])
@pytest.mark.parametrize("fill", ["next_open", "close"])
def test_fast_kernel_equals_general_loop(costs: object, fill: str) -> None:
    bars = random_bars(800, 3, seed=1)
    cfg = BacktestConfig(cash=50_000, costs=costs, fill=fill, shared_cash=False)  # type: ignore[arg-type]
    sig = _sma_signals(bars)
    fast = run_signals(bars, sig, cfg)
    slow = run_signals(bars, sig, cfg, force_general=True)
    np.testing.assert_allclose(fast.equity, slow.equity, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.trades.pnl, slow.trades.pnl, atol=1e-9)
    assert fast.trades.n == slow.trades.n > 10


def test_a_decision_on_the_last_bar_is_dropped_and_no_lookahead() -> None:
    bars = random_bars(50)
    e = np.zeros((50, 1), dtype=bool)
    e[-1] = True
    res = run_signals(bars, Signals(e), BacktestConfig())
    assert res.trades.n == 0
    # changing the future does not change decisions made before it
    e[10] = True
    a = run_signals(bars, Signals(e), BacktestConfig())
    c2 = bars.close.copy()
    c2[30:] *= 2
    b2 = Bars(bars.index, bars.open, np.maximum(bars.high, c2), bars.low, c2, bars.volume)
    b = run_signals(b2, Signals(e), BacktestConfig())
    assert a.trades.entry_bar[0] == b.trades.entry_bar[0] == 11
    assert a.trades.entry_price[0] == bars.open[11, 0]
    np.testing.assert_allclose(a.equity[:30], b.equity[:30])


def _flat_bars(o: list[float], h: list[float], lo: list[float], c: list[float]) -> Bars:
    return Bars.from_arrays(None, o, h, lo, c)


def test_stop_and_target_in_one_bar_takes_the_stop() -> None:
    # entry at open of bar 1 = 100; bar 2 touches both 95 (sl 5 %) and 110 (tp 10 %)
    bars = _flat_bars([100, 100, 100, 100], [101, 101, 111, 101], [99, 99, 94, 99], [100, 100, 100, 100])
    e = np.array([True, False, False, False])
    res = run_signals(bars, Signals.of(e), BacktestConfig(exits=Exits(sl=0.05, tp=0.10)))
    assert res.trades.n == 1
    assert res.trades.exit_price[0] == pytest.approx(95.0) and res.trades.reason[0] == 1  # "sl"


def test_gap_through_the_stop_fills_at_the_open() -> None:
    bars = _flat_bars([100, 100, 90, 90], [101, 101, 91, 91], [99, 99, 89, 89], [100, 100, 90, 90])
    res = run_signals(bars, Signals.of([True, False, False, False]), BacktestConfig(exits=Exits(sl=0.05)))
    assert res.trades.exit_price[0] == 90.0 and res.trades.exit_bar[0] == 2


def test_take_profit_and_trailing_stop() -> None:
    bars = _flat_bars([100, 100, 105, 112], [101, 101, 111, 113], [99, 99, 104, 111], [100, 100, 110, 112])
    res = run_signals(bars, Signals.of([True, False, False, False]), BacktestConfig(exits=Exits(tp=0.10)))
    assert res.trades.exit_price[0] == pytest.approx(110.0) and res.trades.reason[0] == 2
    # trailing 5 %: highs 101, 101, 120 -> stop from earlier bars only, then 114 after bar 2
    bars = _flat_bars(
        [100, 100, 110, 116, 112],
        [101, 101, 120, 117, 113],
        [99, 99, 109, 113, 111],
        [100, 100, 118, 115, 112],
    )
    res = run_signals(
        bars, Signals.of([True, False, False, False, False]), BacktestConfig(exits=Exits(trail=0.05))
    )
    assert res.trades.reason[0] == 3 and res.trades.exit_bar[0] == 3
    assert res.trades.exit_price[0] == pytest.approx(120 * 0.95)


def test_short_position_profits_when_price_falls() -> None:
    bars = _flat_bars([100, 100, 90, 80], [101, 101, 91, 81], [99, 99, 89, 79], [100, 95, 85, 80])
    se = np.array([True, False, False, False])
    sx = np.array([False, False, True, False])
    res = run_signals(bars, Signals.of(np.zeros(4, bool), None, se, sx), BacktestConfig(cash=1000))
    assert res.trades.direction[0] == -1 and res.trades.qty[0] == 10
    assert res.trades.pnl[0] == pytest.approx(10 * (100 - 80))
    assert res.equity[-1, 0] == pytest.approx(1200.0)


def test_lot_size_and_sizing_modes() -> None:
    bars = _flat_bars([100] * 6, [101] * 6, [99] * 6, [100] * 6)
    e = [True, False, False, False, False, False]
    r = run_signals(bars, Signals.of(e), BacktestConfig(cash=100_000, lot_size=75))
    assert r.trades.qty[0] == 975  # 1000 shares affordable -> 13 lots of 75
    r = run_signals(bars, Signals.of(e), BacktestConfig(cash=100_000, sizing=Sizing("percent_equity", 0.25)))
    assert r.trades.qty[0] == 250
    r = run_signals(bars, Signals.of(e), BacktestConfig(cash=100_000, sizing=Sizing("quantity", 7)))
    assert r.trades.qty[0] == 7
    # risk 1 % of 100k with a 5 % stop at 100 -> 1000 / 5 = 200 shares
    r = run_signals(
        bars, Signals.of(e), BacktestConfig(cash=100_000, sizing=Sizing("risk", 0.01), exits=Exits(sl=0.05))
    )
    assert r.trades.qty[0] == 200
    with pytest.raises(BacktestError, match="stop-loss"):
        run_signals(bars, Signals.of(e), BacktestConfig(sizing=Sizing("risk", 0.01)))


def test_vol_target_sizes_down_in_volatile_markets() -> None:
    calm, wild = random_bars(300, seed=3, vol=0.005), random_bars(300, seed=3, vol=0.03)
    e = np.zeros((300, 1), bool)
    e[100] = True
    cfg = BacktestConfig(cash=1e6, sizing=Sizing("vol_target", 0.10))
    q_calm = run_signals(calm, Signals(e), cfg).trades
    q_wild = run_signals(wild, Signals(e), cfg).trades
    notional = lambda t: t.qty[0] * t.entry_price[0]  # noqa: E731
    assert notional(q_wild) < notional(q_calm)


def test_shared_cash_portfolio_never_spends_more_than_it_has() -> None:
    bars = random_bars(400, 4, seed=5)
    res = run_backtest(bars, "sma_cross", {}, BacktestConfig(cash=100_000, costs=indian_costs()))
    assert res.sim.cash.min() >= -1e-6
    assert res.sim.trades.n > 5 and len(set(res.sim.trades.symbol.tolist())) > 1


class EventSmaCross(Strategy):
    fast = 10
    slow = 20

    def init(self) -> None:
        self.f = self.I(talib.SMA, self.data.close_full, self.fast)
        self.s = self.I(talib.SMA, self.data.close_full, self.slow)

    def next(self) -> None:
        if self.t < 1:
            return
        if self.position() == 0 and self.f[-2] < self.s[-2] and self.f[-1] > self.s[-1]:
            self.buy()
        elif self.position() > 0 and self.f[-2] > self.s[-2] and self.f[-1] < self.s[-1]:
            self.close()


def test_event_api_and_signal_arrays_give_the_same_backtest() -> None:
    bars = random_bars(700, seed=11)
    cfg = BacktestConfig(cash=10_000, costs=FractionalCommission(0.002))
    a = run_backtest(bars, EventSmaCross, {}, cfg)
    b = run_backtest(bars, "sma_cross", {"fast": 10, "slow": 20}, cfg)
    np.testing.assert_allclose(a.equity, b.equity, atol=1e-9)
    assert a.metrics.trades == b.metrics.trades > 5


class Peeker(Strategy):
    def init(self) -> None:
        self.c = self.I(lambda x: x, self.data.close_full)

    def next(self) -> None:
        _ = self.c[self.t + 1]


def test_reading_the_future_raises_lookahead_error() -> None:
    from mantra.quant.backtest.events import LookAheadError

    with pytest.raises(LookAheadError):
        run_backtest(random_bars(30), Peeker)
    assert len(EventSmaCross.__dict__) > 0


def test_event_api_brackets_and_unknown_param() -> None:
    class Bracket(Strategy):
        def next(self) -> None:
            if self.t == 0:
                px = self.data.close[-1]
                self.buy(10, sl=px * 0.9, tp=px * 1.1)

    bars = _flat_bars([100, 100, 100], [101, 112, 101], [99, 98, 99], [100, 100, 100])
    res = run_backtest(bars, Bracket)
    assert res.sim.trades.reason[0] == 2 and res.sim.trades.exit_price[0] == pytest.approx(110.0)
    with pytest.raises(BacktestError, match="no parameter"):
        run_backtest(bars, Bracket, {"nope": 1})


def test_metrics_on_a_known_curve() -> None:
    from mantra.quant.backtest.engine import TradeTable
    from mantra.quant.backtest.metrics import compute_metrics

    idx = np.datetime64("2024-01-01") + np.arange(4).astype("timedelta64[D]")
    eq = np.array([110.0, 99.0, 121.0, 121.0])
    m = compute_metrics(eq, 100.0, idx, TradeTable.empty(), periods_per_year=252)
    r = np.array([0.1, -0.1, 121 / 99 - 1, 0.0])
    assert m.total_return == pytest.approx(0.21)
    assert m.max_drawdown == pytest.approx(-0.1)
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    assert m.volatility == pytest.approx(r.std(ddof=1) * math.sqrt(252))


def test_benchmark_beta_of_the_benchmark_itself_is_one() -> None:
    bars = random_bars(300, seed=2)
    e = np.zeros((300, 1), bool)
    e[0] = True
    res = run_backtest(
        bars,
        Signals(e),
        None,
        BacktestConfig(fill="close", sizing=Sizing("all_in", 1.0)),
        benchmark=bars.close[:, 0],
    )
    assert res.metrics.beta == pytest.approx(1.0, abs=0.02)
    assert abs(res.metrics.alpha or 0) < 0.01


def test_unaffordable_entries_retry_the_same_way_in_fast_and_general_paths() -> None:
    # Given cash that buys one share at best, so some entries cannot be afforded after losses
    bars = random_bars(1500, 2, seed=9, vol=0.03)
    sig = Signals(bars.close > np.roll(bars.close, 1, axis=0), bars.close < np.roll(bars.close, 1, axis=0))
    cfg = BacktestConfig(cash=130.0, costs=FractionalCommission(0.002), shared_cash=False)
    fast = run_signals(bars, sig, cfg)
    slow = run_signals(bars, sig, cfg, force_general=True)
    np.testing.assert_allclose(fast.equity, slow.equity, atol=1e-9)
    assert fast.trades.n == slow.trades.n
    assert (fast.position == 0).any()


def test_event_strategy_parameters_are_typed_and_misspellings_suggested() -> None:
    assert EventSmaCross.param_names() == ["fast", "slow"]
    bars = random_bars(200, seed=1)
    run = run_backtest(bars, EventSmaCross, {"fast": "5"})
    assert run.params == {"fast": "5"} and run.metrics.trades >= 1
    with pytest.raises(BacktestError, match="did you mean slow"):
        run_backtest(bars, EventSmaCross, {"slwo": 30})
    with pytest.raises(BacktestError, match="no parameter 'next'"):
        run_backtest(bars, EventSmaCross, {"next": 1})


class PairRotation(Strategy):
    """Multi-symbol event strategy: hold whichever of two symbols rose more over 10 bars."""

    lookback = 10

    def next(self) -> None:
        if self.t < self.lookback:
            return
        a, b = self.symbol(0).close, self.symbol(1).close
        ra = a[-1] / a[-1 - self.lookback]
        rb = b[-1] / b[-1 - self.lookback]
        want = 0 if ra > rb else 1
        if self.position(want) == 0:
            self.close(1 - want)
            self.buy(symbol=want)


def test_multi_symbol_event_strategy_shares_one_cash_balance() -> None:
    bars = random_bars(300, 2, seed=4)
    run = run_backtest(bars, PairRotation, {}, BacktestConfig(cash=50_000, costs=indian_costs()))
    pos = run.sim.position
    assert ((pos != 0).sum(axis=1) <= 1).all()  # the close fills before the buy on the same open
    assert run.metrics.trades > 5 and run.sim.cash.min() > -1e-6
    assert set(run.sim.trades.symbol.tolist()) == {0, 1}


def test_same_close_fills_only_for_strategies_that_declare_them() -> None:
    bars = random_bars(200, seed=2)
    with pytest.raises(BacktestError, match="declare fill_at_close"):
        run_backtest(bars, "sma_cross", {}, BacktestConfig(fill="close"))
    with pytest.raises(BacktestError, match="declare fill_at_close"):
        run_backtest(bars, EventSmaCross, {}, BacktestConfig(fill="close"))

    class AtClose(EventSmaCross):
        fill_at_close = True

    run = run_backtest(bars, AtClose, {})
    tr = run.sim.trades
    assert tr.n and tr.entry_price[0] == bars.close[int(tr.entry_bar[0]), 0]
