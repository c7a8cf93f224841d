"""A first guess for the normalised implied-volatility problem, good to ~1e-4 relative over the usual range,
so one Halley step usually lands within the price tolerance.

The problem: find s > 0 with b(x, s) = beta for an out-of-the-money normalised call, x = -a <= 0 (see
``implied_vol``). For small s the Black price is the Bachelier price, b ~ s g(a/s) with
g(q) = phi(q) - q N(-q), and ``beta / a = g(q) / q`` depends on q alone. Two cheap coordinates follow:

- ``lam = ln(1 + a / (beta sqrt(2 pi)))`` is ~q for small q and ~q^2/2 for large q; ``qt = lam / sqrt(1 +
  lam / 2)`` tracks q at both ends, and ``zeta = qt / (1 + qt)`` maps it onto [0, 1);
- ``w = (a + beta sqrt(2 pi)) / (1 + qt)``, which is close to the Bachelier s everywhere.

The exact answer over that grid, ``s / w``, is smooth (1 at w = 0), so it is tabulated once (solved by
bisection on the exact price, on first use) and read back by bilinear interpolation. Outside the table (s
beyond ~1, tiny prices beyond ~36 standard deviations) the guess is NaN and the caller falls back.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from mantra.quant.options.normal import FloatArray, norm_cdf

SQRT_2PI = math.sqrt(2.0 * math.pi)
N_ZETA, N_W = 97, 65
QT_MAX = 36.0
ZETA_MAX = QT_MAX / (1.0 + QT_MAX)
W_MAX = 1.0


def normalised_otm_call(x: FloatArray, s: FloatArray) -> FloatArray:
    """b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2) for x <= 0, s > 0."""
    h = x / s
    return np.asarray(
        np.exp(0.5 * x) * norm_cdf(h + 0.5 * s) - np.exp(-0.5 * x) * norm_cdf(h - 0.5 * s), dtype=np.float64
    )


def _coordinates(a: FloatArray, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
    lam = np.log1p(a / (beta * SQRT_2PI))
    qt = lam / np.sqrt(1.0 + 0.5 * lam)
    return qt / (1.0 + qt), (a + beta * SQRT_2PI) / (1.0 + qt)


@cache
def _table() -> FloatArray:
    """s / w on the (zeta, w) grid, solved by 40 bisections in ln s (to 3e-11); NaN where no price exists."""
    zeta = np.linspace(0.0, ZETA_MAX, N_ZETA)[:, None]
    w = np.maximum(np.linspace(0.0, W_MAX, N_W), 1e-6)[None, :]
    qt = zeta / (1.0 - zeta)
    # invert qt = lam / sqrt(1 + lam/2): lam^2 - qt^2 lam / 2 - qt^2 = 0
    lam = 0.25 * qt * qt + np.sqrt(0.0625 * qt**4 + qt * qt)
    a = w * (1.0 + qt) * -np.expm1(-lam)
    beta = w * (1.0 + qt) * np.exp(-lam) / SQRT_2PI
    a, beta = np.broadcast_arrays(a, beta)
    x = -a.ravel()
    target = beta.ravel()
    lo = np.full(x.size, math.log(1e-9))
    hi = np.full(x.size, math.log(1e3))
    with np.errstate(all="ignore"):
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            below = normalised_otm_call(x, np.exp(mid)) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    s = np.exp(0.5 * (lo + hi))
    feasible = (target < np.exp(0.5 * x)) & (hi < math.log(1e3) - 1e-9)
    return np.asarray(np.where(feasible, s, np.nan).reshape(a.shape) / w, dtype=np.float64)


def table_guess(a: FloatArray, beta: FloatArray) -> FloatArray:
    """s with b(-a, s) ~ beta, to ~1e-4 relative; NaN outside the table."""
    tab = _table()
    zeta, w = _coordinates(a, beta)
    fz = zeta * ((N_ZETA - 1) / ZETA_MAX)
    fw = w * ((N_W - 1) / W_MAX)
    inside = (fz >= 0.0) & (fz < N_ZETA - 1) & (fw >= 0.0) & (fw < N_W - 1)
    iz = np.where(inside, fz, 0.0).astype(np.intp)
    iw = np.where(inside, fw, 0.0).astype(np.intp)
    tz = fz - iz
    tw = fw - iw
    flat = iz * N_W + iw
    t00 = tab.take(flat)
    t01 = tab.take(flat + 1)
    t10 = tab.take(flat + N_W)
    t11 = tab.take(flat + (N_W + 1))
    lower = t00 + tw * (t01 - t00)
    upper = t10 + tw * (t11 - t10)
    ratio = lower + tz * (upper - lower)
    return np.asarray(np.where(inside, ratio * w, np.nan), dtype=np.float64)
