"""Option strategies pay the backtest's configured costs and slippage, like equity backtests."""

from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, Brokerage, FractionalCommission, Slippage, indian_costs
from mantra.quant.backtest.costs import IndianCosts, costs_for_segment
from mantra.quant.strategies.options import build_legs, run_option_strategy
from mantra.quant.strategies.registry import get_strategy
from quant_helpers import random_bars

STRADDLE = {"lot_size": 50, "strike_step": 1, "iv": 0.2, "side": "short"}
CONDOR = {"lot_size": 50, "strike_step": 1, "iv": 0.25, "otm": 0.03, "wing": 0.03}


def _run(name: str, p: dict[str, object], cfg: BacktestConfig):  # type: ignore[no-untyped-def]
    bars = random_bars(260, seed=4, vol=0.01)
    return bars, run_option_strategy(bars, name, get_strategy(name).resolve(p), cfg)[0]


def test_option_strategy_with_no_costs_configured_pays_none() -> None:
    # Given an iron condor backtest configured with a zero commission
    cfg = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0))
    # When it runs
    _, sim = _run("iron_condor", CONDOR, cfg)
    # Then no cycle pays charges (the Indian options model is not forced on it)
    assert sim.trades.n >= 10
    assert float(sim.trades.costs.sum()) == 0.0


def test_option_strategy_pays_the_configured_commission_on_premium_turnover() -> None:
    # Given a short straddle with a 1 % commission per side
    rate = 0.01
    cfg = BacktestConfig(cash=1_000_000, costs=FractionalCommission(rate))
    free = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0))
    # When it runs with and without the commission
    bars, sim = _run("straddle", STRADDLE, cfg)
    _, base = _run("straddle", STRADDLE, free)
    tr, b = sim.trades, base.trades
    # Then each cycle pays 1 % of the entry premium turnover plus 1 % of the settled value
    c = bars.close[:, 0]
    for k in range(tr.n):
        t, e, qty = int(tr.entry_bar[k]), int(tr.exit_bar[k]), float(tr.qty[k])
        strike = build_legs("straddle", float(c[t]), get_strategy("straddle").resolve(STRADDLE))[0].strike
        settled = abs(float(c[e]) - strike)
        expected = rate * qty * (float(b.entry_price[k]) + settled)
        assert tr.costs[k] == pytest.approx(expected, rel=1e-9)
        assert tr.pnl[k] == pytest.approx(b.pnl[k] - expected, rel=1e-9, abs=1e-6)


def test_option_legs_fill_with_the_configured_slippage() -> None:
    # Given a short straddle with 50 bps of slippage and no costs
    slip = Slippage(bps=50)
    cfg = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0), slippage=slip)
    free = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0))
    # When it runs with and without slippage
    _, sim = _run("straddle", STRADDLE, cfg)
    _, base = _run("straddle", STRADDLE, free)
    tr, b = sim.trades, base.trades
    # Then both sold legs receive 0.5 % less premium and every cycle's P&L is lower by exactly that
    assert tr.n == b.n >= 10
    np.testing.assert_allclose(tr.entry_price, b.entry_price * (1 - 0.005), rtol=1e-12)
    np.testing.assert_allclose(b.pnl - tr.pnl, tr.qty * b.entry_price * 0.005, rtol=1e-9)
    # and the equity curve is lower from the first fill on
    first = int(tr.entry_bar[0])
    assert (sim.equity[first:, 0] < base.equity[first:, 0]).all()


def test_covered_call_shares_pay_slippage_on_the_purchase() -> None:
    # Given a covered call with 10 ticks of slippage and no costs
    cfg = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0), slippage=Slippage(ticks=10))
    free = BacktestConfig(cash=1_000_000, costs=FractionalCommission(0.0))
    p = {"lot_size": 100, "strike_step": 1, "iv": 0.2}
    # When it runs with and without slippage
    _, sim = _run("covered_call", p, cfg)
    _, base = _run("covered_call", p, free)
    # Then the shares cost 10 x 0.05 more each, once, and the sold calls fill 0.50 lower each cycle
    qty = float(sim.trades.qty[0])
    n = sim.trades.n
    lost = float(base.equity[-1, 0] - sim.equity[-1, 0])
    assert lost == pytest.approx(qty * 0.5 + n * qty * 0.5, rel=1e-9)


def test_indian_costs_on_option_legs_keep_the_exchange_and_a_user_brokerage() -> None:
    # Given the Indian model configured for equity delivery on BSE with a user's flat 5-rupee brokerage
    mine = indian_costs("equity_delivery", "BSE", Brokerage(flat=5.0))
    # When it is applied to option legs and to shares
    opt = costs_for_segment(mine, "options")
    stock = costs_for_segment(mine, "equity_delivery")
    # Then the options segment's statutory rates apply on BSE, with the user's brokerage
    assert isinstance(opt, IndianCosts)
    ref = indian_costs("options", "BSE", Brokerage(flat=5.0))
    assert opt == ref
    b = opt.breakdown(-1, 50, 100.0)
    assert b.stt == pytest.approx(0.001 * 5000) and b.brokerage == 5.0
    assert stock is mine


def test_indian_default_schedule_uses_the_options_brokerage() -> None:
    # Given the default Indian model (equity delivery, no brokerage set by the user)
    default = indian_costs()
    # When applied to option legs
    opt = costs_for_segment(default, "options")
    # Then the options segment's own default schedule (flat 20 per order) applies
    assert opt == indian_costs("options")
    assert opt.charges(1, 50, 100.0) > 20.0


def test_option_backtest_with_indian_costs_charges_the_options_segment() -> None:
    # Given a short straddle with the default Indian model and a BSE variant
    nse = BacktestConfig(cash=1_000_000, costs=indian_costs())
    bse = BacktestConfig(cash=1_000_000, costs=indian_costs(exchange="BSE"))
    # When both run
    bars, a = _run("straddle", STRADDLE, nse)
    _, b = _run("straddle", STRADDLE, bse)
    # Then the first cycle's opening charges are the options segment's on the sold premiums
    tr = a.trades
    opt = indian_costs("options")
    qty = float(tr.qty[0])
    t, e = int(tr.entry_bar[0]), int(tr.exit_bar[0])
    c = bars.close[:, 0]
    strike = build_legs("straddle", float(c[t]), get_strategy("straddle").resolve(STRADDLE))[0].strike
    settled = abs(float(c[e]) - strike)
    # entry: two sold legs whose premiums add up to the entry price (the net credit); the charges are linear
    # in turnover but for the flat 20-rupee brokerage (+ GST) per order, so two orders = one on the sum + one
    # more order's fee; at expiry the one leg in the money is bought back at its intrinsic value
    entry = opt.charges(-1, qty, float(tr.entry_price[0])) + 20.0 * 1.18
    settle = opt.charges(1, qty, settled) if settled > 0 else 0.0
    assert tr.costs[0] == pytest.approx(entry + settle, rel=1e-9)
    # and the exchange matters (BSE charges differ)
    assert float(b.trades.costs.sum()) != pytest.approx(float(tr.costs.sum()))
