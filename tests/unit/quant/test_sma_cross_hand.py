"""SMA(10/20) long-only cross on the daily sample vs a loop written here, independently of the engine.

Semantics under test: decide on the close of bar t (SMA fast crosses above slow: fast[t-1] < slow[t-1] and
fast[t] > slow[t]; the cross below closes), fill at bar t+1's open, cash 10,000, 0.2 % commission per side
on the
traded value, whole shares, all-in: shares = floor(cash / (open * 1.002)); an open position at the end is
marked at
the last close without exit commission.
"""

from __future__ import annotations

import csv
import math

from mantra.quant.backtest import BacktestConfig, FractionalCommission, load_csv, run_backtest
from quant_helpers import STOCK_CSV


def _hand_backtest() -> tuple[list[float], list[tuple[int, float, int, float, int]]]:
    with STOCK_CSV.open() as fh:
        rows = list(csv.DictReader(fh))
    opens = [float(r["Open"]) for r in rows]
    closes = [float(r["Close"]) for r in rows]
    n = len(closes)

    def sma(k: int, t: int) -> float:
        if t < k - 1:
            return math.nan
        return sum(closes[t - k + 1 : t + 1]) / k

    cash, shares = 10_000.0, 0
    pending: str | None = None
    entry: tuple[int, float] | None = None
    trades: list[tuple[int, float, int, float, int]] = []
    equity: list[float] = []
    for t in range(n):
        if pending == "buy":
            shares = math.floor(cash / (opens[t] * 1.002))
            cash -= shares * opens[t] * 1.002
            entry = (t, opens[t])
        elif pending == "sell":
            cash += shares * opens[t] * 0.998
            assert entry is not None
            trades.append((entry[0], entry[1], t, opens[t], shares))
            shares = 0
        pending = None
        equity.append(cash + shares * closes[t])
        if t >= 1 and t + 1 < n:
            f0, s0, f1, s1 = sma(10, t - 1), sma(20, t - 1), sma(10, t), sma(20, t)
            if shares == 0 and f0 < s0 and f1 > s1:
                pending = "buy"
            elif shares > 0 and f0 > s0 and f1 < s1:
                pending = "sell"
    return equity, trades


def test_sma_cross_matches_independent_hand_computation_to_1e6() -> None:
    # Given the sample stock and the hand loop
    hand_equity, hand_trades = _hand_backtest()
    # When the engine runs the library strategy with the same settings
    run = run_backtest(
        load_csv(STOCK_CSV),
        "sma_cross",
        {"fast": 10, "slow": 20},
        BacktestConfig(cash=10_000, costs=FractionalCommission(0.002)),
    )
    # Then every bar's equity and every closed trade agree
    assert len(hand_trades) >= 5
    assert len(run.equity) == len(hand_equity)
    for a, b in zip(run.equity, hand_equity, strict=True):
        assert abs(a - b) < 1e-6
    tr = run.sim.trades.select(run.sim.trades.closed)
    assert tr.n == len(hand_trades)
    for k, (eb, ep, xb, xp, q) in enumerate(hand_trades):
        assert (int(tr.entry_bar[k]), int(tr.exit_bar[k]), int(tr.qty[k])) == (eb, xb, q)
        assert abs(tr.entry_price[k] - ep) < 1e-9 and abs(tr.exit_price[k] - xp) < 1e-9
    assert abs(run.metrics.end_value - hand_equity[-1]) < 1e-6
    assert abs(run.metrics.total_return - (hand_equity[-1] / 10_000 - 1)) < 1e-9
