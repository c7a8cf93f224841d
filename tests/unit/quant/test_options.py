from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, BacktestError, indian_costs, load_csv, run_backtest
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
    # the Indian cost model configured, as the job service does by default
    run = run_backtest(bars, name, PARAMS, BacktestConfig(cash=2_000_000, costs=indian_costs()))
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


def _bs_chain_csv(path: Path, bars: Any, name: str, p: dict[str, Any]) -> Path:
    """A chain in NSE-like CSV layout whose premiums are Black-Scholes prices (so the runs must agree)."""
    from mantra.quant.strategies import get_strategy

    params = get_strategy(name).resolve(p)
    bs = BlackScholesPricer(bars.close[:, 0], iv=float(params["iv"]), rate=float(params["rate"]))
    days = [str(d)[:10] for d in bars.index.astype("datetime64[D]")]
    rows = ["Date,Expiry,Strike,Option Type,Close"]
    t, dte = 21, int(params["dte"])
    while t + dte < bars.n_bars:
        exp = t + dte
        for lg in build_legs(name, float(bars.close[t, 0]), params):
            if lg.kind == "stock":
                continue
            for u in range(t, exp):
                px = bs.price(u, lg.kind, lg.strike, exp, float(bars.close[u, 0]))
                rows.append(
                    f"{days[u]},{days[exp]},{lg.strike:g},{'CE' if lg.kind == 'call' else 'PE'},{px:.8f}"
                )
        t = exp
    path.write_text("\n".join(rows) + "\n")
    return path


def test_chain_priced_run_equals_black_scholes_when_the_chain_is_black_scholes(tmp_path: Path) -> None:
    from mantra.quant.strategies.options import load_chain_csv

    bars = load_csv(STOCK_CSV)
    p = {**PARAMS, "iv": 0.25}
    chain = load_chain_csv(_bs_chain_csv(tmp_path / "chain.csv", bars, "iron_condor", p), bars)
    assert chain.expiry_bars[:2] == (42, 63)
    a = run_backtest(bars, "iron_condor", p, BacktestConfig(cash=2_000_000), pricer=chain)
    b = run_backtest(bars, "iron_condor", p, BacktestConfig(cash=2_000_000))
    np.testing.assert_allclose(a.equity, b.equity, rtol=1e-9, atol=1e-4)
    assert a.metrics.trades == b.metrics.trades and not chain.misses


def test_chain_rolls_on_the_chain_expiries_and_reports_fallbacks(tmp_path: Path) -> None:
    from mantra.quant.strategies.options import load_chain_csv

    bars = load_csv(STOCK_CSV)
    days = [str(d)[:10] for d in bars.index.astype("datetime64[D]")]
    # one quote only, expiring on bar 60: the strategy must roll to bar 60 and price the rest by fallback
    path = tmp_path / "c.csv"
    path.write_text(f"date,expiry,strike,type,premium\n{days[30]},{days[60]},6000,CE,12.5\n")
    chain = load_chain_csv(path, bars, fallback=BlackScholesPricer(bars.close[:, 0], iv=0.3))
    run = run_backtest(bars, "covered_call", PARAMS, BacktestConfig(cash=2_000_000), pricer=chain)
    assert run.sim.trades.n == 1 and int(run.sim.trades.exit_bar[0]) == 60
    assert run.extras["chain_fallbacks"] > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Strike,Close\n")
    with pytest.raises(Exception, match="missing column"):
        load_chain_csv(bad, bars)


def test_cli_prices_an_option_strategy_from_a_chain_file(tmp_path: Path) -> None:
    import json

    import typer
    from mantra.cli.backtest import backtest
    from typer.testing import CliRunner

    app = typer.Typer()
    app.command("backtest")(backtest)
    app.command("noop")(lambda: None)
    bars = load_csv(STOCK_CSV)
    p = {**PARAMS, "iv": 0.25}
    chain = _bs_chain_csv(tmp_path / "chain.csv", bars, "straddle", p)
    args = [
        "backtest",
        "--strategy",
        "straddle",
        "--data",
        str(STOCK_CSV),
        "--cash",
        "3000000",
        "--json",
        "--chain",
        str(chain),
    ] + [a for k, v in p.items() for a in ("--param", f"{k}={v}")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["metrics"]["trades"] >= 15 and "chain_fallbacks" not in d
