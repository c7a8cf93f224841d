"""The strategy library on real-format data (CSV files in the NSE daily layout, loaded with load_csv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mantra.quant.backtest import BacktestConfig, Bars, indian_costs, load_csv, run_backtest
from mantra.quant.backtest.data import combine
from mantra.quant.strategies import REGISTRY, StrategyError, get_strategy
from mantra.quant.strategies.library import engle_granger, supertrend_line
from quant_helpers import NIFTY_CSV, STOCK_CSV


def _write_csv(path: Path, idx: np.ndarray, c: np.ndarray, rng: np.random.Generator) -> Path:
    o = np.concatenate([[c[0]], c[:-1]]) * np.exp(rng.normal(0, 0.003, c.size))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 0.004, c.size)))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 0.004, c.size)))
    lines = ["Date,Open,High,Low,Close,Volume"]
    lines += [
        f"{str(d)[:10]},{o[i]:.2f},{h[i]:.2f},{lo[i]:.2f},{c[i]:.2f},{int(rng.integers(100_000, 1_000_000))}"
        for i, d in enumerate(idx)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def stock() -> Bars:
    return load_csv(STOCK_CSV)


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Bars:
    """Five NSE-like stocks in CSV files on the sample's trading calendar."""
    d = tmp_path_factory.mktemp("universe")
    base = load_csv(STOCK_CSV)
    rng = np.random.default_rng(5)
    files = []
    for k, drift in enumerate((0.0012, 0.0004, -0.0003, 0.0008, 0.0)):
        c = 500 * np.exp(np.cumsum(rng.normal(drift, 0.015, base.n_bars)))
        files.append(_write_csv(d / f"STK{k}.csv", base.index, c, rng))
    return combine([load_csv(f) for f in files])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Bars:
    """Two cointegrated stocks (y = 1.2 x + a mean-reverting spread) in CSV files."""
    d = tmp_path_factory.mktemp("pair")
    base = load_csv(STOCK_CSV)
    rng = np.random.default_rng(8)
    lx = np.log(800) + np.cumsum(rng.normal(0, 0.012, base.n_bars))
    s = np.zeros(base.n_bars)
    for t in range(1, base.n_bars):
        s[t] = 0.85 * s[t - 1] + rng.normal(0, 0.02)
    ly = 0.3 + 1.2 * lx + s
    fy = _write_csv(d / "HDFCLIKE.csv", base.index, np.exp(ly), rng)
    fx = _write_csv(d / "ICICILIKE.csv", base.index, np.exp(lx), rng)
    return combine([load_csv(fy), load_csv(fx)])


SINGLE = ["sma_cross", "ema_cross", "rsi_reversion", "bollinger_reversion", "donchian_breakout", "supertrend"]


@pytest.mark.parametrize("name", SINGLE)
def test_single_symbol_strategies_trade_the_sample_with_indian_costs(name: str, stock: Bars) -> None:
    run = run_backtest(stock, name, {}, BacktestConfig(cash=100_000, costs=indian_costs()))
    assert run.metrics.trades + run.metrics.open_trades >= 1
    assert run.metrics.total_costs > 0
    assert np.isfinite(run.equity).all() and run.sim.cash.min() > -1e-6


def _prefix_invariant(bars: Bars, name: str, params: dict[str, object] | None = None) -> None:
    spec = get_strategy(name)
    p = spec.resolve(params or {})
    full = spec.signals(bars, p)
    k = bars.n_bars * 2 // 3
    part = spec.signals(bars.slice(0, k), p)
    for field in ("entries", "exits", "short_entries", "short_exits"):
        a, b = getattr(full, field), getattr(part, field)
        if a is None:
            assert b is None
            continue
        np.testing.assert_array_equal(a[:k], b, err_msg=f"{name}.{field} changes when the future is removed")


@pytest.mark.parametrize("name", SINGLE)
def test_signals_do_not_look_ahead(name: str, stock: Bars) -> None:
    _prefix_invariant(stock, name)


def test_portfolio_strategies_do_not_look_ahead(universe: Bars, pair: Bars) -> None:
    _prefix_invariant(universe, "dual_momentum", {"lookback": 60})
    _prefix_invariant(universe, "rs_rotation", {"lookback": 40, "top": 2})
    _prefix_invariant(pair, "pairs_trading", {"formation": 100})


def test_rsi_reversion_buys_only_when_oversold(stock: Bars) -> None:
    import talib

    run = run_backtest(stock, "rsi_reversion", {"period": 14, "entry": 35, "exit": 60})
    rsi = talib.RSI(stock.close[:, 0], 14)
    for eb in run.sim.trades.entry_bar:
        assert rsi[int(eb) - 1] < 35  # decided on the previous close, filled at this open


def test_donchian_entries_break_the_previous_high(stock: Bars) -> None:
    sig = get_strategy("donchian_breakout").signals(stock, {"entry": 20, "exit": 10})
    for t in np.flatnonzero(sig.entries[:, 0]):
        assert stock.close[t, 0] > stock.high[t - 20 : t, 0].max()


def test_supertrend_flips_with_the_trend() -> None:
    up = np.linspace(100, 200, 120)
    c = np.concatenate([up, up[::-1]])
    d = supertrend_line(c * 1.01, c * 0.99, c, 10, 3.0)
    assert d[60] == 1 and d[-1] == -1
    sig = get_strategy("supertrend").signals(
        Bars.from_arrays(None, c, c * 1.01, c * 0.99, c), {"period": 10, "multiplier": 3.0, "short": True}
    )
    assert sig.short_entries is not None and sig.short_entries.any()


def test_dual_momentum_holds_at_most_one_symbol(universe: Bars) -> None:
    run = run_backtest(universe, "dual_momentum", {"lookback": 60, "rebalance": 21})
    assert run.metrics.trades >= 2
    assert ((run.sim.position != 0).sum(axis=1) <= 1).all()


def test_rs_rotation_holds_top_k_equal_weight(universe: Bars) -> None:
    run = run_backtest(universe, "rs_rotation", {"lookback": 40, "top": 2, "rebalance": 10})
    held = (run.sim.position != 0).sum(axis=1)
    assert held.max() == 2 and run.metrics.trades >= 4
    assert run.sim.cash.min() > -1e-6


def test_pairs_trading_finds_the_cointegrated_pair_and_trades_both_legs(pair: Bars) -> None:
    eg = engle_granger(np.log(pair.close[:, 0]), np.log(pair.close[:, 1]))
    assert eg.cointegrated() and abs(eg.beta - 1.2) < 0.15
    run = run_backtest(pair, "pairs_trading", {"formation": 100, "entry_z": 1.5, "exit_z": 0.3})
    tr = run.sim.trades
    assert tr.n >= 4 and set(tr.symbol.tolist()) == {0, 1} and {-1, 1} <= set(tr.direction.tolist())
    # legs are opposite at every bar
    pos = run.sim.position
    both = (pos[:, 0] != 0) & (pos[:, 1] != 0)
    assert both.any() and (np.sign(pos[both, 0]) == -np.sign(pos[both, 1])).all()


def test_pairs_legs_are_sized_by_the_hedge_ratio_of_their_window(pair: Bars) -> None:
    params = {"formation": 100, "retest": 20, "entry_z": 1.5, "exit_z": 0.3}
    run = run_backtest(pair, "pairs_trading", params)
    tr = run.sim.trades
    checked = 0
    for t in sorted(set(tr.entry_bar.tolist())):
        legs = np.flatnonzero(tr.entry_bar == t)
        if len(legs) != 2:
            continue
        notional = {int(tr.symbol[k]): float(tr.qty[k] * tr.entry_price[k]) for k in legs}
        # the ratio in force at the decision bar (the fill is the next bar's open)
        d = t - 1
        start = 99 + (d - 99) // 20 * 20
        w = slice(start - 99, start + 1)
        beta = engle_granger(np.log(pair.close[w, 0]), np.log(pair.close[w, 1])).beta
        # whole shares: each leg is short of its target by less than one share's price
        slack = sum(float(tr.entry_price[k]) / notional[int(tr.symbol[k])] for k in legs)
        assert abs(notional[1] / notional[0] / beta - 1) <= slack + 1e-3
        # together about 98 % of equity (sized on the fill bar's open, compared with the decision bar's close)
        assert 0.9 <= (notional[0] + notional[1]) / float(run.sim.equity[d, 0]) <= 1.0
        checked += 1
    assert checked >= 2


def test_pairs_weights_replace_the_old_half_and_half(pair: Bars) -> None:
    sig = get_strategy("pairs_trading").signals(
        pair, get_strategy("pairs_trading").resolve({"formation": 100, "entry_z": 1.5, "exit_z": 0.3})
    )
    assert sig.weights is not None
    live = ~np.isnan(sig.weights[:, 0])
    assert live.any()
    ratio = sig.weights[live, 1] / sig.weights[live, 0]
    assert np.allclose(sig.weights[live].sum(axis=1), 0.98) and (ratio > 1.0).mean() > 0.5  # beta ~ 1.2


def test_registry_validates_types_bounds_and_names() -> None:
    spec = get_strategy("sma_cross")
    assert spec.resolve({"fast": "5", "slow": "30"}) == {"fast": 5, "slow": 30}
    with pytest.raises(StrategyError, match="did you mean slow"):
        spec.resolve({"slwo": 3})
    with pytest.raises(StrategyError, match="must be int"):
        spec.resolve({"fast": "2.5"})
    with pytest.raises(StrategyError, match=">= 1"):
        spec.resolve({"fast": 0})
    with pytest.raises(StrategyError, match="did you mean rsi_reversion"):
        get_strategy("rsi_reverson")
    assert len(REGISTRY) >= 9


def test_wrong_symbol_count_is_a_clear_error(stock: Bars) -> None:
    from mantra.quant.backtest import BacktestError

    with pytest.raises(BacktestError, match="needs 2-2 symbols"):
        run_backtest(stock, "pairs_trading")


def test_benchmark_from_the_nifty_sample(stock: Bars) -> None:
    nifty = load_csv(NIFTY_CSV)
    run = run_backtest(stock, "sma_cross", {}, benchmark=nifty.close[:, 0])
    assert run.metrics.beta is not None and 0 < run.metrics.beta < 2
