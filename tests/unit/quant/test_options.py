from __future__ import annotations

import math

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, BacktestError, load_csv, run_backtest
from mantra.quant.backtest.report import render_html
from mantra.quant.strategies.options import (
    BlackScholesPricer,
    ChainPricer,
    Leg,
    black_scholes,
    build_legs,
    payoff_at_expiry,
)
from quant_helpers import STOCK_CSV

PARAMS = {"lot_size": 250, "strike_step": 20}


def test_black_scholes_matches_a_textbook_value_and_put_call_parity() -> None:
    # Hull: S=42, K=40, r=10 %, sigma=20 %, T=0.5 -> call 4.76, put 0.81
    c = float(black_scholes("call", 42.0, 40.0, 0.5, 0.2, 0.10))
    p = float(black_scholes("put", 42.0, 40.0, 0.5, 0.2, 0.10))
    assert c == pytest.approx(4.76, abs=0.005) and p == pytest.approx(0.81, abs=0.005)
    assert c - p == pytest.approx(42 - 40 * math.exp(-0.05), abs=1e-9)
    assert float(black_scholes("call", 100.0, 90.0, 0.0, 0.3)) == 10.0  # at expiry: intrinsic


def test_iron_condor_payoff_is_capped_on_both_sides() -> None:
    legs = build_legs("iron_condor", 1000.0, {"strike_step": 10, "otm": 0.05, "wing": 0.05})
    assert [lg.strike for lg in legs] == [900, 950, 1050, 1100]
    prem = [2.0, 8.0, 8.0, 2.0]
    spots = np.linspace(700, 1300, 601)
    pnl = payoff_at_expiry(legs, prem, 1000.0, spots)
    assert pnl.max() == pytest.approx(12.0)  # net credit
    assert pnl.min() == pytest.approx(12.0 - 50.0)  # credit - wing width


def test_covered_call_payoff_caps_the_upside() -> None:
    legs = [Leg("stock", 1), Leg("call", -1, 110.0)]
    pnl = payoff_at_expiry(legs, [0.0, 3.0], 100.0, np.array([80.0, 100.0, 150.0]))
    assert list(pnl) == pytest.approx([-17.0, 3.0, 13.0])


@pytest.mark.parametrize("name", ["covered_call", "cash_secured_put", "iron_condor", "straddle", "strangle"])
def test_option_strategies_run_on_the_sample_with_payoff_diagrams(name: str) -> None:
    bars = load_csv(STOCK_CSV)
    run = run_backtest(bars, name, PARAMS, BacktestConfig(cash=2_000_000))
    assert run.metrics.trades >= 15  # monthly cycles over two years
    assert np.isfinite(run.equity).all() and run.metrics.total_costs > 0
    html = render_html(run)
    assert "Payoff at expiry" in html and html.count("<svg") >= 4
    assert run.to_dict()["last_cycle"]["legs"]


def test_short_straddle_profits_in_a_flat_market_and_long_loses() -> None:
    n = 200
    c = 1000 + np.sin(np.arange(n) / 3.0)  # almost flat
    from mantra.quant.backtest import Bars

    bars = Bars.from_arrays(None, c, c + 1, c - 1, c)
    p = {"iv": 0.2, "lot_size": 50, "strike_step": 10}
    short = run_backtest(bars, "straddle", {**p, "side": "short"}, BacktestConfig(cash=1_000_000))
    long = run_backtest(bars, "straddle", {**p, "side": "long"}, BacktestConfig(cash=1_000_000))
    assert short.metrics.total_return > 0 > long.metrics.total_return


def test_chain_pricer_uses_quotes_and_falls_back_or_fails() -> None:
    close = np.full(60, 100.0)
    chain = ChainPricer({(21, "call", 105.0, 42): 1.25})
    assert chain.price(21, "call", 105.0, 42, 100.0) == 1.25
    assert chain.price(42, "call", 90.0, 42, 100.0) == 10.0  # expiry: intrinsic
    with pytest.raises(BacktestError, match="no chain quote"):
        chain.price(22, "call", 105.0, 42, 100.0)
    fb = ChainPricer({}, fallback=BlackScholesPricer(close, iv=0.2))
    assert fb.price(21, "put", 100.0, 42, 100.0) > 0


def test_option_strategy_errors_are_clear() -> None:
    bars = load_csv(STOCK_CSV)
    with pytest.raises(BacktestError, match="does not cover one lot"):
        run_backtest(bars, "cash_secured_put", PARAMS, BacktestConfig(cash=10_000))
    from mantra.quant.strategies import StrategyError

    with pytest.raises(StrategyError, match="short, long"):
        run_backtest(bars, "straddle", {"side": "sideways"})
