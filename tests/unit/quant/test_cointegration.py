"""Our Engle-Granger test against statsmodels' ``coint`` (the well-kept reference), lag selection included."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from mantra.quant.strategies.cointegration import adf_no_constant, critical_values, engle_granger
from nse_files import daily_panel
from statsmodels.tsa.stattools import adfuller, coint  # type: ignore[import-untyped]

# liquid NSE names, banks and IT and others side by side, so pairs range from related to unrelated
NAMES = [
    "HDFCBANK",
    "ICICIBANK",
    "SBIN",
    "AXISBANK",
    "KOTAKBANK",
    "TCS",
    "INFY",
    "WIPRO",
    "HCLTECH",
    "RELIANCE",
]


def _reference(y: np.ndarray, x: np.ndarray) -> tuple[float, dict[float, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stat, _p, crit = coint(y, x, trend="c", autolag="aic")
    return float(stat), {0.01: float(crit[0]), 0.05: float(crit[1]), 0.10: float(crit[2])}


def _reference_lag(resid: np.ndarray) -> int:
    return int(adfuller(resid, regression="n", autolag="aic", result_object=True).lags)


def test_real_nse_pairs_match_statsmodels_statistic_lag_and_critical_values() -> None:
    panel = daily_panel(NAMES)
    logs = np.log(panel.close)
    assert not np.isnan(logs).any(), "the chosen names trade every day of the sample"
    lags_seen: set[int] = set()
    verdicts: set[bool] = set()
    for i, j in itertools.permutations(range(len(NAMES)), 2):
        y, x = logs[:, i], logs[:, j]
        ours = engle_granger(y, x)
        stat, crit = _reference(y, x)
        assert ours.stat == pytest.approx(stat, rel=1e-9, abs=1e-9), (NAMES[i], NAMES[j])
        for lvl in (0.01, 0.05, 0.10):
            assert ours.crit[lvl] == pytest.approx(crit[lvl], rel=1e-12)
        resid = y - ours.alpha - ours.beta * x
        assert ours.lags == _reference_lag(resid), (NAMES[i], NAMES[j])
        lags_seen.add(ours.lags)
        verdicts.add(ours.cointegrated())
    # the comparison means something only if AIC chose different lags and the verdicts differ across pairs
    assert len(lags_seen) >= 2
    assert verdicts == {True, False}


@pytest.mark.parametrize("seed", range(12))
def test_simulated_pairs_with_autocorrelated_spreads_match_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 400))
    x = np.cumsum(rng.normal(0, 0.01, n)) + math.log(500)
    phi = float(rng.uniform(0.3, 1.0))  # 1.0: not cointegrated at all
    s = np.zeros(n)
    u = rng.normal(0, 0.01, n)
    for t in range(2, n):  # AR(2) spread, so a lag-free Dickey-Fuller would be wrong
        s[t] = phi * s[t - 1] + 0.3 * (s[t - 1] - s[t - 2]) * (phi < 1) + u[t]
    y = 0.2 + float(rng.uniform(0.5, 1.5)) * x + s
    ours = engle_granger(y, x)
    stat, crit = _reference(y, x)
    assert ours.stat == pytest.approx(stat, rel=1e-9, abs=1e-9)
    assert ours.crit[0.05] == pytest.approx(crit[0.05], rel=1e-12)
    assert ours.lags == _reference_lag(y - ours.alpha - ours.beta * x)


def test_a_strongly_autocorrelated_spread_needs_lags_and_is_still_found() -> None:
    rng = np.random.default_rng(3)
    n = 500
    x = np.cumsum(rng.normal(0, 0.01, n))
    s = np.zeros(n)
    for t in range(2, n):
        s[t] = 1.5 * s[t - 1] - 0.6 * s[t - 2] + rng.normal(0, 0.005)  # stationary AR(2)
    eg = engle_granger(0.1 + 1.3 * x + s, x)
    assert eg.lags >= 1 and eg.cointegrated(0.01)
    assert eg.beta == pytest.approx(1.3, abs=0.05)


def test_independent_random_walks_are_rejected_about_as_often_as_the_level() -> None:
    rng = np.random.default_rng(1)
    rejected = sum(
        engle_granger(np.cumsum(rng.normal(size=250)), np.cumsum(rng.normal(size=250))).cointegrated(0.05)
        for _ in range(200)
    )
    assert 2 <= rejected <= 20  # 5 % of 200 is 10


def test_an_exact_linear_relation_is_reported_as_collinear_like_statsmodels() -> None:
    x = np.log(np.linspace(100, 180, 90)) + np.sin(np.arange(90)) * 0.01
    eg = engle_granger(2.0 * x + 0.5, x)
    assert eg.stat == -math.inf and eg.beta == pytest.approx(2.0)
    assert _reference(2.0 * x + 0.5, x)[0] == -math.inf


def test_critical_values_follow_mackinnon_2010_and_too_short_samples_are_refused() -> None:
    cv = critical_values(10_001)
    assert cv[0.05] == pytest.approx(-3.33613 - 6.1101 / 10_000 - 6.823 / 1e8)
    assert cv[0.01] < cv[0.05] < cv[0.10]
    with pytest.raises(ValueError, match="too few"):
        adf_no_constant(np.array([0.1]))
