"""One call from bars + a strategy to metrics, trades and series: ``run_backtest``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mantra.quant.backtest.data import Bars, FloatArray, infer_periods_per_year
from mantra.quant.backtest.engine import (
    REASONS,
    BacktestConfig,
    BacktestError,
    Signals,
    SimResult,
    run_signals,
)
from mantra.quant.backtest.events import Strategy, run_strategy
from mantra.quant.backtest.metrics import Metrics, compute_metrics, drawdown_series
from mantra.quant.strategies.registry import StrategySpec, get_strategy


@dataclass
class BacktestRun:
    strategy: str
    params: dict[str, Any]
    sim: SimResult
    metrics: Metrics
    benchmark: FloatArray | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    per_symbol: dict[str, Metrics] = field(default_factory=dict)
    """Independent columns (``shared_cash=False``, several symbols): each symbol's own metrics, next to the
    portfolio's in ``metrics``.  Empty for one cash balance."""

    @property
    def bars(self) -> Bars:
        return self.sim.bars

    @property
    def start_value(self) -> float:
        return self.sim.start_value

    @property
    def equity(self) -> FloatArray:
        """The portfolio's equity curve (the sum of the columns' curves for independent columns)."""
        return self.sim.portfolio_equity

    @property
    def drawdown(self) -> FloatArray:
        return drawdown_series(self.equity, self.start_value)

    def trade_records(self) -> list[dict[str, Any]]:
        tr = self.sim.trades
        idx = self.bars.index
        out: list[dict[str, Any]] = []
        for k in range(tr.n):
            out.append(
                {
                    "symbol": self.bars.symbols[int(tr.symbol[k])],
                    "direction": "long" if tr.direction[k] > 0 else "short",
                    "qty": float(tr.qty[k]),
                    "entry_time": str(idx[int(tr.entry_bar[k])]),
                    "entry_price": float(tr.entry_price[k]),
                    "exit_time": str(idx[int(tr.exit_bar[k])]),
                    "exit_price": float(tr.exit_price[k]),
                    "costs": float(tr.costs[k]),
                    "pnl": float(tr.pnl[k]),
                    "return": float(tr.ret[k]),
                    "bars_held": int(tr.exit_bar[k] - tr.entry_bar[k]),
                    "exit_reason": REASONS[int(tr.reason[k])],
                }
            )
        return out

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        cfg = self.sim.config
        d: dict[str, Any] = {
            "strategy": self.strategy,
            "params": self.params,
            "symbols": list(self.bars.symbols),
            "start": str(self.bars.index[0]),
            "end": str(self.bars.index[-1]),
            "bars": self.bars.n_bars,
            "cash": cfg.cash,
            "fill": cfg.fill,
            "costs": type(cfg.costs).__name__,
            "metrics": self.metrics.as_dict(),
            "per_symbol_metrics": {k: m.as_dict() for k, m in self.per_symbol.items()} or None,
            "trades": self.trade_records(),
            "warnings": list(self.bars.warnings),
        }
        if "last_cycle" in self.extras:
            d["last_cycle"] = self.extras["last_cycle"]
        if "chain_fallbacks" in self.extras:
            d["chain_fallbacks"] = self.extras["chain_fallbacks"]
        if series:
            d["equity"] = [float(x) for x in self.equity]
            d["drawdown"] = [float(x) for x in self.drawdown]
            d["index"] = [str(x) for x in self.bars.index]
        return d


StrategyLike = str | StrategySpec | type[Strategy] | Signals

_CLOSE_FILL_REFUSED = (
    "{name} decides on a bar's close and fills at the next open; filling on the same close would trade at a "
    "price the decision has already seen. Only strategies that declare fill_at_close may fill on the close."
)


def run_backtest(
    bars: Bars,
    strategy: StrategyLike,
    params: Mapping[str, object] | None = None,
    config: BacktestConfig | None = None,
    *,
    benchmark: FloatArray | None = None,
    on_bar: Callable[[int], None] | None = None,
    pricer: Any = None,
) -> BacktestRun:
    """Run a registered strategy (by name or spec), an event ``Strategy`` class, or ready ``Signals``."""
    cfg = config or BacktestConfig()
    if cfg.periods_per_year is None:
        cfg = replace(cfg, periods_per_year=infer_periods_per_year(bars.index))
    if benchmark is not None:
        benchmark = np.asarray(benchmark, dtype=np.float64).reshape(-1)
        if benchmark.shape[0] != bars.n_bars:
            raise BacktestError(f"benchmark has {benchmark.shape[0]} bars, the data has {bars.n_bars}")
        if not np.all(np.isfinite(benchmark) & (benchmark > 0)):
            raise BacktestError("benchmark must be finite and > 0")
    name: str
    resolved: dict[str, Any]
    if isinstance(strategy, Signals):
        name, resolved = "signals", {}
        sim = run_signals(bars, strategy, cfg)
    elif isinstance(strategy, type) and issubclass(strategy, Strategy):
        if cfg.fill == "close" and not strategy.fill_at_close:
            raise BacktestError(_CLOSE_FILL_REFUSED.format(name=strategy.__name__))
        name, resolved = strategy.__name__, dict(params or {})
        sim = run_strategy(bars, strategy, cfg, resolved, on_bar=on_bar)
    else:
        spec = get_strategy(strategy) if isinstance(strategy, str) else strategy
        if bars.n_symbols < spec.min_symbols or (spec.max_symbols and bars.n_symbols > spec.max_symbols):
            want = f"{spec.min_symbols}" + (f"-{spec.max_symbols}" if spec.max_symbols else "+")
            raise BacktestError(f"{spec.name} needs {want} symbols, got {bars.n_symbols}")
        resolved = spec.resolve(params)
        name = spec.name
        if spec.sizing is not None and cfg.sizing.mode == "all_in" and cfg.sizing.value == 1.0:
            cfg = replace(cfg, sizing=spec.sizing(resolved, bars.n_symbols))
        if spec.fill_at_close:
            cfg = replace(cfg, fill="close")
        elif cfg.fill == "close":
            raise BacktestError(_CLOSE_FILL_REFUSED.format(name=spec.name))
        if spec.kind == "options":
            from mantra.quant.strategies.options import payoff_svg, run_option_strategy

            sim, last = run_option_strategy(bars, spec.name, resolved, cfg, pricer)
            extras: dict[str, Any] = {}
            if last:
                extras["payoff_svg"] = payoff_svg(last["legs"], last["premiums"], last["spot"], last["qty"])
                extras["last_cycle"] = {
                    "bar": last["bar"],
                    "spot": last["spot"],
                    "qty": last["qty"],
                    "legs": [
                        {
                            "kind": lg.kind,
                            "side": "long" if lg.side > 0 else "short",
                            "strike": lg.strike,
                            "premium": pm,
                        }
                        for lg, pm in zip(last["legs"], last["premiums"], strict=True)
                    ],
                }
            misses = getattr(pricer, "misses", None)
            if misses:
                extras["chain_fallbacks"] = len(misses)
            return BacktestRun(name, resolved, sim, metrics_of(sim, benchmark), benchmark, extras)
        sim = run_signals(bars, spec.signals(bars, resolved), cfg)
    return BacktestRun(
        name,
        resolved,
        sim,
        metrics_of(sim, benchmark),
        benchmark,
        per_symbol=per_symbol_metrics(sim, benchmark),
    )


def metrics_of(sim: SimResult, benchmark: FloatArray | None = None) -> Metrics:
    """The portfolio's metrics.  One cash balance: its equity curve.  Independent columns (one cash balance
    per symbol, ``shared_cash=False``): the sum of the columns' equity curves from N x cash, with every
    column's trades and positions - not the first column's."""
    cfg = sim.config
    return compute_metrics(
        sim.portfolio_equity,
        sim.start_value,
        sim.bars.index,
        sim.trades,
        position=sim.position,
        close=sim.bars.close,
        benchmark=benchmark,
        periods_per_year=cfg.periods_per_year or 252.0,
        risk_free=cfg.risk_free,
    )


def per_symbol_metrics(sim: SimResult, benchmark: FloatArray | None = None) -> dict[str, Metrics]:
    """Each independent column's own metrics, by symbol (empty for one shared cash balance)."""
    groups = sim.equity.shape[1]
    if groups == 1:
        return {}
    cfg = sim.config
    out: dict[str, Metrics] = {}
    for g in range(groups):
        out[sim.bars.symbols[g]] = compute_metrics(
            sim.equity[:, g],
            cfg.cash,
            sim.bars.index,
            sim.trades.select(sim.trades.group == g),
            position=sim.position[:, [g]],
            close=sim.bars.close[:, [g]],
            benchmark=benchmark,
            periods_per_year=cfg.periods_per_year or 252.0,
            risk_free=cfg.risk_free,
        )
    return out


def fmt_pct(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x * 100:.2f}%"
