"""Backtests as jobs: submitted through the API, run by backtest_runner, stored per tenant."""
