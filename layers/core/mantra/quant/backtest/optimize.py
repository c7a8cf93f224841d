"""Parameter grid search and walk-forward validation (to show how much of an in-sample optimum survives).

* ``grid_search`` runs every combination of a grid (combinations the strategy rejects, e.g. fast >= slow,
  are skipped and counted) and ranks them by one metric.
* ``walk_forward`` slides a window: optimise on ``train`` bars, then trade the best parameters on the next
  ``test`` bars that the optimiser never saw (indicators are warmed up on the training bars, trades happen
  only
  in the test bars, each test window starts from the same cash).  Out-of-sample windows are chained into one
  equity curve.  ``efficiency`` = mean out-of-sample score / mean in-sample score: near 1 the optimum is
  robust;
  near 0 or negative the grid search mostly fitted noise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mantra.quant.backtest.api import BacktestRun, metrics_of, run_backtest
from mantra.quant.backtest.data import Bars, FloatArray, infer_periods_per_year
from mantra.quant.backtest.engine import BacktestConfig, BacktestError, Signals, run_signals
from mantra.quant.backtest.metrics import Metrics
from mantra.quant.strategies.registry import StrategyError, StrategySpec, get_strategy

Progress = Callable[[int], None]


def _score(m: Metrics, metric: str) -> float:
    v = getattr(m, metric, None)
    if v is None:
        raise BacktestError(f"unknown metric {metric!r}")
    f = float(v)
    return f if math.isfinite(f) else -math.inf


@dataclass
class GridResult:
    metric: str
    rows: list[dict[str, Any]]  # params + score + key metrics, best first
    skipped: int

    @property
    def best(self) -> dict[str, Any]:
        if not self.rows:
            raise BacktestError("no valid parameter combination in the grid")
        return dict(self.rows[0]["params"])


def expand_grid(grid: Mapping[str, Sequence[object]]) -> list[dict[str, object]]:
    if not grid:
        raise BacktestError("empty parameter grid")
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def grid_search(
    bars: Bars,
    strategy: str | StrategySpec,
    grid: Mapping[str, Sequence[object]],
    config: BacktestConfig | None = None,
    *,
    metric: str = "sharpe",
    progress: Progress | None = None,
) -> GridResult:
    spec = get_strategy(strategy) if isinstance(strategy, str) else strategy
    combos = expand_grid(grid)
    for name in grid:  # an unknown name fails fast, with a "did you mean"
        if name not in spec.defaults:
            spec.resolve({name: 0})
    rows: list[dict[str, Any]] = []
    skipped = 0
    for k, params in enumerate(combos):
        try:
            run = run_backtest(bars, spec, params, config)
        except StrategyError:
            skipped += 1
            continue
        finally:
            if progress is not None:
                progress(k + 1)
        m = run.metrics
        rows.append(
            {
                "params": run.params,
                "score": _score(m, metric),
                "total_return": m.total_return,
                "sharpe": m.sharpe,
                "max_drawdown": m.max_drawdown,
                "trades": m.trades,
            }
        )
    rows.sort(key=lambda r: r["score"], reverse=True)
    return GridResult(metric, rows, skipped)


@dataclass
class WindowResult:
    train: tuple[str, str]
    test: tuple[str, str]
    params: dict[str, Any]
    in_sample: float
    out_of_sample: float
    oos_return: float
    oos_trades: int


@dataclass
class WalkForwardResult:
    metric: str
    windows: list[WindowResult]
    oos_equity: FloatArray
    oos_index: np.ndarray[Any, np.dtype[np.datetime64]]
    start_cash: float
    summary: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "summary": self.summary,
            "windows": [w.__dict__ for w in self.windows],
        }


def _run_window(
    bars: Bars, spec: StrategySpec, params: Mapping[str, Any], cfg: BacktestConfig, a: int, b: int, c: int
) -> BacktestRun:
    """Signals computed on bars[a:c] (warm-up on a..b), trades only in b..c."""
    p = spec.resolve(params)
    sig_all = spec.signals(bars.slice(a, c), p)
    cut = b - a

    def tail(x: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any] | None:
        return None if x is None else x[cut:]

    sig = Signals(
        sig_all.entries[cut:],
        tail(sig_all.exits),
        tail(sig_all.short_entries),
        tail(sig_all.short_exits),
        tail(sig_all.weights),
    )
    test = bars.slice(b, c)
    run_cfg = cfg
    if spec.sizing is not None and cfg.sizing.mode == "all_in" and cfg.sizing.value == 1.0:
        run_cfg = replace(cfg, sizing=spec.sizing(p, bars.n_symbols))
    sim = run_signals(test, sig, run_cfg)
    return BacktestRun(spec.name, p, sim, metrics_of(sim))


def walk_forward(
    bars: Bars,
    strategy: str | StrategySpec,
    grid: Mapping[str, Sequence[object]],
    config: BacktestConfig | None = None,
    *,
    train: int,
    test: int,
    step: int | None = None,
    anchored: bool = False,
    metric: str = "sharpe",
    progress: Progress | None = None,
) -> WalkForwardResult:
    spec = get_strategy(strategy) if isinstance(strategy, str) else strategy
    cfg = config or BacktestConfig()
    if cfg.periods_per_year is None:
        cfg = replace(cfg, periods_per_year=infer_periods_per_year(bars.index))
    step = step or test
    if train < 20 or test < 5:
        raise BacktestError("walk-forward needs train >= 20 and test >= 5 bars")
    if train + test > bars.n_bars:
        raise BacktestError(f"train + test = {train + test} bars but the data has {bars.n_bars}")
    starts = list(range(0, bars.n_bars - train - test + 1, step))
    windows: list[WindowResult] = []
    eq_parts: list[FloatArray] = []
    idx_parts: list[np.ndarray[Any, np.dtype[np.datetime64]]] = []
    level = cfg.cash
    n_combos = len(expand_grid(grid))
    done = 0
    for s in starts:
        a = 0 if anchored else s
        b, c = s + train, s + train + test
        sub = bars.slice(a, b)

        def tick(k: int, base: int = done) -> None:
            if progress is not None:
                progress(base + k)

        gr = grid_search(sub, spec, grid, cfg, metric=metric, progress=tick)
        done += n_combos
        best = gr.best
        oos = _run_window(bars, spec, best, cfg, a, b, c)
        windows.append(
            WindowResult(
                train=(str(bars.index[a])[:10], str(bars.index[b - 1])[:10]),
                test=(str(bars.index[b])[:10], str(bars.index[c - 1])[:10]),
                params=best,
                in_sample=float(gr.rows[0]["score"]),
                out_of_sample=_score(oos.metrics, metric),
                oos_return=oos.metrics.total_return,
                oos_trades=oos.metrics.trades,
            )
        )
        eq_parts.append(oos.equity / oos.start_value * level)
        idx_parts.append(bars.index[b:c])
        level = float(eq_parts[-1][-1])
    ins = np.array([w.in_sample for w in windows])
    outs = np.array([w.out_of_sample for w in windows])
    fin_in, fin_out = ins[np.isfinite(ins)], outs[np.isfinite(outs)]
    mean_in = float(fin_in.mean()) if fin_in.size else math.nan
    mean_out = float(fin_out.mean()) if fin_out.size else math.nan
    eq = np.concatenate(eq_parts)
    summary = {
        "windows": float(len(windows)),
        "mean_in_sample": mean_in,
        "mean_out_of_sample": mean_out,
        "efficiency": mean_out / mean_in if mean_in and math.isfinite(mean_in) and mean_in != 0 else math.nan,
        "oos_total_return": float(eq[-1] / cfg.cash - 1.0),
        "share_of_windows_profitable": float(np.mean([w.oos_return > 0 for w in windows])),
    }
    return WalkForwardResult(metric, windows, eq, np.concatenate(idx_parts), cfg.cash, summary)


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["fast=5,10,15", "slow=20:60:10"]`` -> values as strings (``a:b:step`` is an inclusive range)."""
    out: dict[str, list[str]] = {}
    for it in items:
        if "=" not in it:
            raise BacktestError(f"--grid takes NAME=v1,v2,... or NAME=start:stop:step, got {it!r}")
        k, v = (x.strip() for x in it.split("=", 1))
        if ":" in v:
            parts = v.split(":")
            if len(parts) != 3:
                raise BacktestError(f"range must be start:stop:step, got {v!r}")
            try:
                lo, hi, st = (float(x) for x in parts)
            except ValueError:
                raise BacktestError(f"range must be numbers, got {v!r}") from None
            if st <= 0 or hi < lo:
                raise BacktestError(f"bad range {v!r}")
            vals = np.arange(lo, hi + st / 2, st)
            out[k] = [f"{x:g}" for x in vals]
        else:
            out[k] = [x.strip() for x in v.split(",") if x.strip()]
        if not out[k]:
            raise BacktestError(f"no values for {k}")
    return out
