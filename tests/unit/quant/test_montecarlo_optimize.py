from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.backtest import (
    BacktestConfig,
    BacktestError,
    FractionalCommission,
    Signals,
    load_csv,
    run_backtest,
)
from mantra.quant.backtest.api import BacktestRun
from mantra.quant.backtest.montecarlo import monte_carlo, trade_growth_factors
from mantra.quant.backtest.optimize import grid_search, parse_grid, walk_forward
from mantra.quant.strategies import StrategyError
from quant_helpers import STOCK_CSV, random_bars


@pytest.fixture(scope="module")
def run() -> BacktestRun:
    return run_backtest(
        load_csv(STOCK_CSV),
        "sma_cross",
        {"fast": 5, "slow": 20},
        BacktestConfig(cash=10_000, costs=FractionalCommission(0.002)),
    )


def test_trade_growth_factors_compound_to_the_closed_trade_equity(run: BacktestRun) -> None:
    g = trade_growth_factors(run)
    closed = run.sim.trades.select(run.sim.trades.closed)
    last_exit = int(closed.exit_bar[-1])
    assert np.prod(g) == pytest.approx(run.equity[last_exit] / 10_000, rel=1e-9)


def test_monte_carlo_is_reproducible_with_a_seed_and_varies_without(run: BacktestRun) -> None:
    a = monte_carlo(run, n=300, seed=7)
    b = monte_carlo(run, n=300, seed=7)
    c = monte_carlo(run, n=300, seed=8)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert not np.array_equal(a.returns, c.returns)
    assert 0.0 <= a.prob_ruin <= 1.0 and (a.max_drawdowns <= 0).all()


def test_shuffling_trades_keeps_the_return_and_changes_only_the_path(run: BacktestRun) -> None:
    s = monte_carlo(run, n=200, method="shuffle", seed=1)
    assert np.allclose(s.returns, s.returns[0])
    assert s.max_drawdowns.min() <= s.max_drawdowns.max()


def test_return_bootstrap_and_ruin_probability() -> None:
    # a strategy with big swings: ruin at -50 % happens in some paths
    bars = random_bars(500, seed=4, vol=0.04)
    e = np.zeros((500, 1), bool)
    e[0] = True
    r = run_backtest(bars, Signals(e))
    mc = monte_carlo(r, n=500, method="returns", seed=3, ruin=0.5, block=10)
    assert 0.0 < mc.prob_ruin < 1.0
    with pytest.raises(ValueError, match="method"):
        monte_carlo(r, n=10, method="nope")  # type: ignore[arg-type]


def test_grid_search_ranks_by_metric_and_skips_invalid_combinations() -> None:
    bars = load_csv(STOCK_CSV)
    gr = grid_search(bars, "sma_cross", {"fast": [5, 10, 30], "slow": [20, 40]}, metric="total_return")
    assert gr.skipped == 1  # fast=30, slow=20
    scores = [r["score"] for r in gr.rows]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(StrategyError, match="did you mean fast"):
        grid_search(bars, "sma_cross", {"fsat": [5]})


def test_walk_forward_trades_only_unseen_bars_and_reports_efficiency() -> None:
    bars = load_csv(STOCK_CSV)
    wf = walk_forward(bars, "sma_cross", {"fast": [5, 10], "slow": [20, 40]}, train=250, test=60)
    assert len(wf.windows) == 4
    for w in wf.windows:
        assert w.train[1] < w.test[0]
    assert wf.oos_equity.shape[0] == 4 * 60
    assert set(wf.summary) >= {"efficiency", "mean_in_sample", "mean_out_of_sample"}
    with pytest.raises(BacktestError, match="train \\+ test"):
        walk_forward(bars, "sma_cross", {"fast": [5]}, train=450, test=100)


def test_parse_grid_ranges_and_lists() -> None:
    assert parse_grid(["fast=5:15:5", "slow=20,30"]) == {"fast": ["5", "10", "15"], "slow": ["20", "30"]}
    with pytest.raises(BacktestError):
        parse_grid(["fast"])
