"""Monte Carlo on a finished backtest: how much of the result is the order of luck?

Three resamplers, each a pure function of a generator (``resample_*``) returning indices into the base
series, so their statistical properties are tested directly:

* ``method="trades"``: an iid bootstrap of the closed trades (drawn uniformly with replacement: a new order
  and mix of the same trades, with the trades' own distribution).  Each trade is a growth factor
  g = 1 + P&L / equity before the trade, so compounding and position size are kept.
* ``method="returns"``: the stationary bootstrap of Politis & Romano (1994) of the per-bar returns of the
  equity curve: blocks start at a uniform random bar and have geometric lengths with mean ``block`` (each next
  bar starts a new block with probability 1 / ``block``), wrapping around the end of the series, so every
  bar is drawn equally often and the resampled series is stationary; the blocks keep volatility clustering
  and short-lag autocorrelation that an iid draw destroys.
* ``method="shuffle"``: permute the trade order without replacement: the final return cannot change, only the
  path, so this isolates drawdown risk.

Each path gives a total return and a max drawdown; probability of ruin = share of paths whose equity touches
``ruin`` x starting equity (0.5 = a 50 % loss) at any point.  The generator is
``numpy.random.default_rng(seed)``: the same seed gives the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mantra.quant.backtest.data import FloatArray
from mantra.quant.backtest.metrics import returns_of

if TYPE_CHECKING:
    from mantra.quant.backtest.api import BacktestRun

Method = Literal["trades", "returns", "shuffle"]
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class MonteCarloResult:
    method: str
    n: int
    seed: int
    ruin_level: float
    returns: FloatArray
    max_drawdowns: FloatArray
    prob_ruin: float
    actual_return: float
    actual_max_drawdown: float

    @property
    def return_quantiles(self) -> tuple[float, ...]:
        return tuple(float(x) for x in np.quantile(self.returns, QUANTILES))

    @property
    def drawdown_quantiles(self) -> tuple[float, ...]:
        # drawdowns are negative: the 95th-percentile bad case is the 5 % quantile
        return tuple(float(x) for x in np.quantile(self.max_drawdowns, (0.5, 0.05)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "runs": self.n,
            "seed": self.seed,
            "ruin_level": self.ruin_level,
            "prob_ruin": self.prob_ruin,
            "prob_loss": float(np.mean(self.returns < 0)),
            "return_p5_p50_p95": list(self.return_quantiles),
            "max_drawdown_p50_p95": list(self.drawdown_quantiles),
            "actual_return": self.actual_return,
            "actual_max_drawdown": self.actual_max_drawdown,
        }


def _paths_stats(growth: FloatArray, ruin: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """growth: (n, k) per-step factors -> total return, max drawdown, ruined flag per path."""
    eq: FloatArray = np.cumprod(growth, axis=1, dtype=np.float64)
    eq = np.concatenate([np.ones((eq.shape[0], 1)), eq], axis=1)
    peak = np.maximum.accumulate(eq, axis=1)
    mdd = (eq / peak - 1.0).min(axis=1)
    return eq[:, -1] - 1.0, mdd, (eq.min(axis=1) <= ruin).astype(np.float64)


IntArray = np.ndarray[Any, np.dtype[np.int64]]


def resample_iid(rng: np.random.Generator, k: int, m: int) -> IntArray:
    """``m`` paths of ``k`` indices drawn uniformly with replacement from ``0..k-1``."""
    return rng.integers(0, k, size=(m, k), dtype=np.int64)


def resample_permutation(rng: np.random.Generator, k: int, m: int) -> IntArray:
    """``m`` random permutations of ``0..k-1`` (sampling without replacement)."""
    return np.asarray(rng.permuted(np.tile(np.arange(k, dtype=np.int64), (m, 1)), axis=1), dtype=np.int64)


def resample_stationary(rng: np.random.Generator, k: int, m: int, mean_block: float) -> IntArray:
    """``m`` paths of ``k`` indices by the stationary bootstrap (Politis & Romano 1994): index 0 of a path
    and every index after a block end is uniform on ``0..k-1``; otherwise the next index is the previous + 1,
    wrapping from ``k-1`` to 0.  A block ends after each index with probability ``1 / mean_block``, so block
    lengths are geometric with mean ``mean_block``."""
    if not mean_block >= 1:
        raise ValueError(f"the mean block length must be >= 1, got {mean_block}")
    new = rng.random((m, k)) < 1.0 / mean_block
    new[:, 0] = True
    starts = rng.integers(0, k, size=(m, k), dtype=np.int64)
    pos = np.arange(k, dtype=np.int64)
    # for each position, where its block started (the last True at or before it)
    block_at = np.maximum.accumulate(np.where(new, pos[None, :], 0), axis=1)
    first = np.take_along_axis(starts, block_at, axis=1)
    return np.asarray((first + (pos[None, :] - block_at)) % k, dtype=np.int64)


def trade_growth_factors(run: BacktestRun) -> FloatArray:
    tr = run.sim.trades
    closed = tr.select(tr.closed)
    eq = run.equity
    start = run.start_value
    before = np.where(closed.entry_bar > 0, eq[np.maximum(closed.entry_bar - 1, 0)], start)
    return np.asarray(1.0 + closed.pnl / before, dtype=np.float64)


def monte_carlo(
    run: BacktestRun,
    *,
    n: int = 1000,
    method: Method = "trades",
    seed: int = 0,
    ruin: float = 0.5,
    block: float = 20,
    chunk: int = 200,
    progress: Callable[[int], None] | None = None,
) -> MonteCarloResult:
    if n < 1:
        raise ValueError("Monte Carlo needs n >= 1")
    if not 0 < ruin < 1:
        raise ValueError("ruin level must be in (0, 1)")
    if method == "returns" and not block >= 1:
        raise ValueError(f"the mean block length must be >= 1, got {block}")
    rng = np.random.default_rng(seed)
    start = run.start_value
    if method in ("trades", "shuffle"):
        base = trade_growth_factors(run)
        if base.size == 0:
            raise ValueError("no closed trades to resample")
    elif method == "returns":
        base = 1.0 + returns_of(run.equity, start)
    else:
        raise ValueError(f"unknown Monte Carlo method {method!r}")
    k = base.size
    rets: list[FloatArray] = []
    dds: list[FloatArray] = []
    ruined: list[FloatArray] = []
    done = 0
    while done < n:
        m = min(chunk, n - done)
        if method == "trades":
            g = base[resample_iid(rng, k, m)]
        elif method == "shuffle":
            g = base[resample_permutation(rng, k, m)]
        else:
            g = base[resample_stationary(rng, k, m, block)]
        r, d, ru = _paths_stats(g, ruin)
        rets.append(r)
        dds.append(d)
        ruined.append(ru)
        done += m
        if progress is not None:
            progress(done)
    all_r = np.concatenate(rets)
    all_d = np.concatenate(dds)
    return MonteCarloResult(
        method=method,
        n=n,
        seed=seed,
        ruin_level=ruin,
        returns=all_r,
        max_drawdowns=all_d,
        prob_ruin=float(np.mean(np.concatenate(ruined))),
        actual_return=run.metrics.total_return,
        actual_max_drawdown=run.metrics.max_drawdown,
    )
