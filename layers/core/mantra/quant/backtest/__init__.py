"""Backtesting engine: signal arrays or an event API on one simulator, Indian costs, metrics, Monte Carlo."""

from mantra.quant.backtest.api import BacktestRun, run_backtest
from mantra.quant.backtest.costs import Brokerage, FractionalCommission, IndianCosts, Slippage, indian_costs
from mantra.quant.backtest.data import Bars, DataError, load_csv, validate_bars
from mantra.quant.backtest.engine import BacktestConfig, BacktestError, Exits, Signals, Sizing, run_signals
from mantra.quant.backtest.events import Strategy

__all__ = [
    "BacktestConfig",
    "BacktestError",
    "BacktestRun",
    "Bars",
    "Brokerage",
    "DataError",
    "Exits",
    "FractionalCommission",
    "IndianCosts",
    "Signals",
    "Sizing",
    "Slippage",
    "Strategy",
    "indian_costs",
    "load_csv",
    "run_backtest",
    "run_signals",
    "validate_bars",
]
