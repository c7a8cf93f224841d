"""Several symbols without shared cash: per-symbol metrics and a portfolio that is the sum of the columns."""

from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, Bars, FractionalCommission, run_backtest
from mantra.quant.backtest.service import BacktestJobSpec, run_backtest_job
from quant_helpers import random_bars


def _three_symbols() -> Bars:
    # three columns with different paths, so each column's result differs from the others'
    a = random_bars(500, 1, seed=3)
    b = random_bars(500, 1, seed=8, vol=0.03)
    c = random_bars(500, 1, seed=21)
    return Bars.from_arrays(
        None,
        np.hstack([a.open, b.open, c.open]),
        np.hstack([a.high, b.high, c.high]),
        np.hstack([a.low, b.low, c.low]),
        np.hstack([a.close, b.close, c.close]),
        np.hstack([a.volume, b.volume, c.volume]),
        symbols=("AAA", "BBB", "CCC"),
    )


def _cfg() -> BacktestConfig:
    return BacktestConfig(cash=100_000, costs=FractionalCommission(0.001), shared_cash=False)


def test_independent_columns_report_the_portfolio_not_the_first_symbol() -> None:
    # Given three symbols backtested as independent columns, 1,00,000 each
    bars = _three_symbols()
    # When the backtest runs
    run = run_backtest(bars, "sma_cross", {"fast": 10, "slow": 30}, _cfg())
    # Then the portfolio equity is the sum of the columns' curves and starts at 3 x cash
    cols = run.sim.equity
    assert cols.shape[1] == 3
    np.testing.assert_allclose(run.equity, cols.sum(axis=1), rtol=0, atol=1e-9)
    assert run.metrics.start_value == pytest.approx(300_000)
    assert run.metrics.end_value == pytest.approx(float(cols[-1].sum()))
    assert run.metrics.total_return == pytest.approx(float(cols[-1].sum()) / 300_000 - 1)
    # and it is not the first column's figure
    assert run.metrics.end_value != pytest.approx(float(cols[-1, 0]))
    # and every column's trades count, not only the first one's
    assert run.metrics.trades == int(run.sim.trades.closed.sum())
    assert len(set(run.sim.trades.symbol.tolist())) == 3


def test_per_symbol_metrics_equal_each_symbol_backtested_alone() -> None:
    # Given three symbols as independent columns
    bars = _three_symbols()
    params = {"fast": 10, "slow": 30}
    # When the portfolio runs, and each symbol runs alone
    run = run_backtest(bars, "sma_cross", params, _cfg())
    # Then each symbol's metrics are those of its own single-symbol backtest
    assert list(run.per_symbol) == ["AAA", "BBB", "CCC"]
    for j, sym in enumerate(bars.symbols):
        alone = run_backtest(bars.column(j), "sma_cross", params, _cfg())
        mine = run.per_symbol[sym]
        assert mine.end_value == pytest.approx(alone.metrics.end_value, abs=1e-6)
        assert mine.sharpe == pytest.approx(alone.metrics.sharpe, abs=1e-9)
        assert mine.max_drawdown == pytest.approx(alone.metrics.max_drawdown, abs=1e-12)
        assert mine.trades == alone.metrics.trades


def test_portfolio_drawdown_is_of_the_summed_curve() -> None:
    # Given independent columns
    run = run_backtest(_three_symbols(), "sma_cross", {"fast": 10, "slow": 30}, _cfg())
    # When the drawdown is read
    total = run.sim.equity.sum(axis=1)
    peak = np.maximum.accumulate(np.concatenate([[300_000.0], total]))[1:]
    # Then it is the summed curve's, measured from 3 x cash
    np.testing.assert_allclose(run.drawdown, total / peak - 1, atol=1e-12)
    assert run.metrics.max_drawdown == pytest.approx(float((total / peak - 1).min()))


def test_one_shared_cash_balance_has_no_per_symbol_metrics() -> None:
    # Given several symbols sharing one cash balance
    cfg = BacktestConfig(cash=100_000, costs=FractionalCommission(0.001), shared_cash=True)
    # When it runs
    run = run_backtest(_three_symbols(), "sma_cross", {"fast": 10, "slow": 30}, cfg)
    # Then the metrics are of the one balance and there is no per-symbol split
    assert run.per_symbol == {}
    assert run.metrics.start_value == 100_000
    np.testing.assert_allclose(run.equity, run.sim.equity[:, 0])


def test_job_result_carries_portfolio_and_per_symbol_metrics_in_paise() -> None:
    # Given a job over two symbols without shared cash
    bars = _three_symbols()
    series = []
    for j, sym in enumerate(bars.symbols[:2]):
        rows = [
            {
                "start_ms": int(bars.index[t].astype("datetime64[ms]").astype(np.int64)),
                "open_paise": round(bars.open[t, j] * 100),
                "high_paise": round(bars.high[t, j] * 100),
                "low_paise": round(bars.low[t, j] * 100),
                "close_paise": round(bars.close[t, j] * 100),
                "volume": 1000,
            }
            for t in range(bars.n_bars)
        ]
        series.append({"symbol": sym, "bars": rows})
    spec = BacktestJobSpec.model_validate(
        {
            "strategy": "sma_cross",
            "params": {"fast": 10, "slow": 30},
            "series": series,
            "cash_paise": 10_000_000,
            "shared_cash": False,
            "costs": {"model": "fractional", "commission": "0.001"},
        }
    )
    # When the job runs
    res = run_backtest_job(spec)
    # Then the portfolio starts at 2 x cash and ends at the sum of the symbols' end values
    assert res.per_symbol_metrics is not None
    assert set(res.per_symbol_metrics) == {"AAA", "BBB"}
    assert res.metrics.start_value_paise == 20_000_000
    ends = sum(m.end_value_paise for m in res.per_symbol_metrics.values())
    assert abs(res.metrics.end_value_paise - ends) <= 1
    assert res.equity[0].equity_paise > 15_000_000
