"""Each Monte Carlo resampler has the statistical property its name promises (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.backtest import Signals, run_backtest
from mantra.quant.backtest.montecarlo import (
    monte_carlo,
    resample_iid,
    resample_permutation,
    resample_stationary,
)
from quant_helpers import random_bars


def _block_lengths(idx: np.ndarray, k: int) -> np.ndarray:
    """Lengths of the completed runs of consecutive (wrapping) indices in each path."""
    out: list[int] = []
    for row in idx:
        cont = row[1:] == (row[:-1] + 1) % k
        breaks = np.flatnonzero(~cont)
        # runs between breaks; the last run of a path is cut by the path's end: leave it out
        ends = np.concatenate([breaks, []]).astype(int)
        starts = np.concatenate([[0], breaks + 1])[: ends.size]
        out.extend((ends - starts + 1).tolist())
    return np.asarray(out)


def _acf1(x: np.ndarray) -> float:
    x = x - x.mean()
    return float((x[1:] * x[:-1]).sum() / (x * x).sum())


def _ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 0.01, n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


@pytest.mark.parametrize("mean_block", [4.0, 10.0, 25.0])
def test_stationary_bootstrap_blocks_are_geometric_with_mean_l(mean_block: float) -> None:
    # Given the stationary bootstrap of a 2,000-bar series with mean block length L
    k = 2_000
    idx = resample_stationary(np.random.default_rng(11), k, 300, mean_block)
    # When the blocks (runs of consecutive bars) are measured
    lengths = _block_lengths(idx, k)
    # Then their mean is L and their spread that of a geometric law (sd = sqrt(1 - p) / p), not fixed blocks
    p = 1.0 / mean_block
    assert lengths.mean() == pytest.approx(mean_block, rel=0.03)
    assert lengths.std() == pytest.approx(np.sqrt(1 - p) / p, rel=0.06)
    assert np.mean(lengths == 1) == pytest.approx(p, rel=0.08)


def test_stationary_bootstrap_wraps_around_and_draws_every_bar_equally_often() -> None:
    # Given many stationary-bootstrap paths of a short series
    k, m = 200, 5_000
    idx = resample_stationary(np.random.default_rng(5), k, m, 8.0)
    # When each bar's draws are counted
    counts = np.bincount(idx.ravel(), minlength=k)
    # Then the ends of the series are drawn as often as the middle (blocks wrap from the last bar to the first)
    expected = m
    assert counts[:10].mean() == pytest.approx(expected, rel=0.06)
    assert counts[-10:].mean() == pytest.approx(expected, rel=0.06)
    assert np.abs(counts / expected - 1).max() < 0.25
    wraps = (idx[:, :-1] == k - 1) & (idx[:, 1:] == 0)
    assert wraps.any()


def test_stationary_bootstrap_with_one_long_block_is_a_rotation() -> None:
    # Given a backtest and a stationary bootstrap whose blocks almost never end
    bars = random_bars(300, seed=4, vol=0.03)
    e = np.zeros((300, 1), bool)
    e[0] = True
    run = run_backtest(bars, Signals(e))
    # When the returns are resampled
    mc = monte_carlo(run, n=50, method="returns", seed=2, block=1e12)
    # Then each path is the series rotated (wrap-around, no bar lost or repeated): the same total return
    np.testing.assert_allclose(mc.returns, run.metrics.total_return, rtol=1e-9)


def test_iid_bootstrap_preserves_the_marginal_distribution() -> None:
    # Given a skewed base sample and its iid bootstrap
    rng = np.random.default_rng(3)
    base = rng.lognormal(0.0, 0.8, 400)
    idx = resample_iid(np.random.default_rng(9), base.size, 500)
    drawn = base[idx].ravel()
    # When the two empirical distributions are compared (Kolmogorov-Smirnov distance)
    grid = np.sort(base)
    ecdf_base = np.searchsorted(grid, grid, side="right") / base.size
    ecdf_drawn = np.searchsorted(np.sort(drawn), grid, side="right") / drawn.size
    ks = float(np.abs(ecdf_base - ecdf_drawn).max())
    # Then they match, and each index is equally likely
    assert ks < 0.01
    assert drawn.mean() == pytest.approx(base.mean(), rel=0.01)
    counts = np.bincount(idx.ravel(), minlength=base.size)
    assert np.abs(counts / 500 - 1).max() < 0.25


def test_block_resampling_keeps_short_lag_autocorrelation_and_iid_destroys_it() -> None:
    # Given AR(1) returns with lag-1 autocorrelation 0.7
    x = _ar1(3_000, 0.7, seed=1)
    assert _acf1(x) == pytest.approx(0.7, abs=0.05)
    # When they are resampled iid and by the stationary bootstrap (mean block 20)
    iid = x[resample_iid(np.random.default_rng(4), x.size, 200)]
    sb = x[resample_stationary(np.random.default_rng(4), x.size, 200, 20.0)]
    acf_iid = np.mean([_acf1(row) for row in iid])
    acf_sb = np.mean([_acf1(row) for row in sb])
    # Then iid paths have none left and block paths keep most of it (about 0.7 x (1 - 1/20))
    assert abs(acf_iid) < 0.02
    assert acf_sb == pytest.approx(0.7 * (1 - 1 / 20), abs=0.05)


def test_permutation_uses_every_trade_once_in_a_uniform_order() -> None:
    # Given permutations of 50 trades
    k, m = 50, 4_000
    idx = resample_permutation(np.random.default_rng(8), k, m)
    # When each path and the first position are inspected
    # Then every path holds each trade exactly once and each trade comes first equally often
    np.testing.assert_array_equal(np.sort(idx, axis=1), np.tile(np.arange(k), (m, 1)))
    first = np.bincount(idx[:, 0], minlength=k)
    assert np.abs(first / (m / k) - 1).max() < 0.5
    assert len({tuple(r) for r in idx[:100]}) == 100


def test_a_mean_block_below_one_is_refused() -> None:
    # Given a mean block length below one bar / Then it is an error, not a silent iid draw
    with pytest.raises(ValueError, match="mean block"):
        resample_stationary(np.random.default_rng(0), 10, 1, 0.5)


def test_job_passes_the_mean_block_length_to_the_stationary_bootstrap() -> None:
    from mantra.quant.backtest.service import BacktestJobSpec, run_backtest_job
    from test_service import STOCK

    # Given one job whose return bootstrap has blocks that never end, and one with short blocks
    def job(mean_block: int) -> BacktestJobSpec:
        return BacktestJobSpec.model_validate(
            {
                "strategy": "sma_cross",
                "params": {"fast": 10, "slow": 20},
                "series": [{"symbol": "SAMPLE", "bars": STOCK}],
                "costs": {"model": "none"},
                "monte_carlo": {"runs": 50, "method": "returns", "mean_block_bars": mean_block, "seed": 1},
            }
        )

    # When both run
    long_blocks = run_backtest_job(job(10_000))
    short_blocks = run_backtest_job(job(2))
    # Then with one long block every path is a rotation (a single total return), and short blocks spread out
    assert long_blocks.monte_carlo is not None and short_blocks.monte_carlo is not None
    lb, sb = long_blocks.monte_carlo, short_blocks.monte_carlo
    assert lb.return_p95 - lb.return_p5 < 0.05 * (sb.return_p95 - sb.return_p5)
