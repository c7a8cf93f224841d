"""Engle-Granger cointegration test, the augmented-Dickey-Fuller way statsmodels' ``coint`` does it.

Step 1 regresses y on [x, 1]; step 2 runs an ADF regression without deterministic terms on the residuals,
choosing the number of lagged differences by AIC over one common sample (Schwert's rule bounds the search);
the statistic is the t-value of the lagged level.  Critical values are MacKinnon's (2010) response surfaces
for two variables with a constant, at T = n - 1 as statsmodels and Stata's ``egranger`` use.  The tests prove
statistic, chosen lag and critical values equal to ``statsmodels.tsa.stattools.coint`` on real NSE pairs; it
is written here because statsmodels (with scipy and pandas) is too heavy for the Lambda layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mantra.quant.backtest.data import FloatArray

# MacKinnon (2010) tau response surface, N = 2, constant: crit(T) = b0 + b1/T + b2/T^2
_TAU_C_N2 = {
    0.01: (-3.89644, -10.9519, -33.527),
    0.05: (-3.33613, -6.1101, -6.823),
    0.10: (-3.04445, -4.2412, -2.720),
}
# statsmodels' test for a (near-)perfect fit, where the residuals carry no information
_COLLINEAR_R2 = 1 - 100 * math.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class EngleGranger:
    stat: float  # ADF t-statistic of the residuals (-inf when y is an exact linear function of x)
    lags: int  # lagged differences chosen by AIC
    alpha: float  # intercept of y on x
    beta: float  # hedge ratio: slope of y on x
    crit: dict[float, float]  # critical value by significance level (0.01, 0.05, 0.10)

    def cointegrated(self, level: float = 0.05) -> bool:
        return self.stat < self.crit[level]


def critical_values(nobs: int) -> dict[float, float]:
    """MacKinnon (2010) critical values for the two-variable test with a constant at ``nobs`` observations."""
    t = nobs - 1
    return {lvl: b0 + b1 / t + b2 / (t * t) for lvl, (b0, b1, b2) in _TAU_C_N2.items()}


def _ols(y: FloatArray, x: FloatArray) -> tuple[FloatArray, float]:
    """Coefficients and residual sum of squares of y on the columns of x."""
    coef = np.asarray(np.linalg.lstsq(x, y, rcond=None)[0], dtype=np.float64)
    resid = y - x @ coef
    return coef, float(resid @ resid)


def _adf_design(e: FloatArray, lags: int) -> tuple[FloatArray, FloatArray]:
    """ADF regression of de_t on [e_{t-1}, de_{t-1} .. de_{t-lags}] over the rows where every lag exists."""
    de = np.diff(e)
    rows = de.size - lags
    cols = [e[lags : lags + rows]] + [de[lags - i : lags - i + rows] for i in range(1, lags + 1)]
    return de[lags:], np.column_stack(cols)


def adf_no_constant(e: FloatArray, max_lags: int | None = None) -> tuple[float, int]:
    """ADF t-statistic (no constant, no trend) of ``e`` and the lag count AIC chose."""
    n = e.size
    if max_lags is None:
        max_lags = min(n // 2 - 1, math.ceil(12.0 * (n / 100.0) ** 0.25))
    if max_lags < 0:
        raise ValueError(f"{n} observations are too few for an ADF test")
    # every candidate is fitted on the sample of the longest one, so their AICs compare
    dy, full = _adf_design(e, max_lags)
    m = dy.size
    best = (math.inf, 0)
    for k in range(max_lags + 1):
        _, ssr = _ols(dy, full[:, : k + 1])
        aic = m * (math.log(2 * math.pi) + math.log(ssr / m) + 1) + 2 * (k + 1)
        best = min(best, (aic, k))
    lags = best[1]
    dy, x = _adf_design(e, lags)
    coef, ssr = _ols(dy, x)
    s2 = ssr / (dy.size - x.shape[1])
    se = math.sqrt(s2 * float(np.linalg.pinv(x.T @ x)[0, 0]))
    return float(coef[0]) / se, lags


def engle_granger(y: FloatArray, x: FloatArray) -> EngleGranger:
    """Is y - beta x - alpha stationary?  y and x are usually log prices over one window."""
    n = y.size
    design = np.column_stack([x, np.ones(n)])
    (beta, alpha), ssr = _ols(y, design)
    resid = y - beta * x - alpha
    tss = float(((y - y.mean()) ** 2).sum())
    crit = critical_values(n)
    if tss > 0 and 1 - ssr / tss >= _COLLINEAR_R2:
        return EngleGranger(-math.inf, 0, float(alpha), float(beta), crit)
    stat, lags = adf_no_constant(resid)
    return EngleGranger(stat, lags, float(alpha), float(beta), crit)
