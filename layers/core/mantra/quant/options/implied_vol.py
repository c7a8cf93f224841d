"""Implied volatility for arrays of European options: vectorised, bracketed, with a status per contract.

Each price is first checked against the no-arbitrage bounds (intrinsic <= price < the discounted underlying
for a call, the discounted strike for a put); a contract outside them gets NaN and a reason code, never a
silent NaN. The rest is solved in Jaeckel's normalised coordinates: x = ln(F/K), s = sigma*sqrt(T) and the
undiscounted price over sqrt(F*K). In-the-money prices are turned into their out-of-the-money twin by
put-call parity, so every contract becomes an out-of-the-money call with x <= 0, whose price b(s) is
increasing in s with a single inflection at s_c = sqrt(2|x|):

- below b(s_c) (the usual case on a chain: wings, short expiries) Halley steps on ln b(s) from an
  asymptotic first guess; ln b is nearly linear in 1/s there, so tiny prices converge as fast as large ones;
- above it, Halley steps on b(s) itself, from max(s_c, Brenner-Subrahmanyam);
- every step is kept inside a bracket [lo, hi] that each evaluation tightens; a step that leaves it becomes
  a bisection.

Converged means |price(sigma) - price| <= ``tol`` in the caller's price units (1e-6 by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from mantra.quant.options.black_scholes import CHUNK, ArrayLike, BoolArray, _arrays
from mantra.quant.options.initial_guess import normalised_otm_call, table_guess
from mantra.quant.options.normal import FloatArray

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2PI = math.sqrt(2.0 * math.pi)
LN_SQRT_2PI = math.log(SQRT_2PI)


class IVStatus(IntEnum):
    OK = 0
    INVALID_INPUT = 1  # non-finite or non-positive spot/strike, negative price
    EXPIRED = 2  # no time left: volatility is undefined
    BELOW_INTRINSIC = 3  # price below the no-arbitrage lower bound
    ABOVE_MAX = 4  # price at or above the discounted underlying (call) / strike (put)
    NO_TIME_VALUE = 5  # price within tol of intrinsic: any small volatility fits
    NOT_CONVERGED = 6


@dataclass(frozen=True)
class IVResult:
    iv: FloatArray  # NaN wherever status != OK
    status: npt.NDArray[np.int8]
    iterations: int

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.status == IVStatus.OK)


def _vega(x: FloatArray, s: FloatArray) -> FloatArray:
    """db/ds = phi(x/s + s/2) e^{x/2} = exp(-x^2/(2 s^2) - s^2/8) / sqrt(2 pi)."""
    return np.asarray(INV_SQRT_2PI * np.exp(-0.5 * (x / s) ** 2 - 0.125 * s * s), dtype=np.float64)


def _low_guess(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Solve ln b ~ -x^2/(2 s^2) + ln(s^3 / (x^2 sqrt(2 pi))) (the small-s asymptote) by fixed point."""
    ax = np.abs(x)
    lb = np.log(beta)
    s = ax / np.sqrt(np.maximum(-2.0 * lb, 1e-300))
    for _ in range(2):
        rhs = 3.0 * np.log(s) - 2.0 * np.log(ax) - LN_SQRT_2PI - lb
        s = np.where(rhs > 0, ax / np.sqrt(2.0 * np.maximum(rhs, 1e-300)), s)
    return s


def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    is_call: BoolArray | bool,
    div: ArrayLike = 0.0,
    *,
    tol: float = 1e-6,
    max_iter: int = 60,
) -> IVResult:
    """Implied volatility per contract; ``status`` (``IVStatus``) says why any entry is NaN."""
    with np.errstate(all="ignore"):
        return _implied_vol(price, spot, strike, years, rate, is_call, div, tol, max_iter)


def _fallback_guess(
    x: FloatArray, tau: FloatArray, sc: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Guess and bracket from the asymptotes: below b(s_c) the better of the small-s asymptote and the line
    through (s_c, ln b_c) with its slope, bracket [0, s_c]; above it max(s_c, Brenner-Subrahmanyam), [s_c, inf)."""
    bc = np.where(sc > 0, normalised_otm_call(x, np.maximum(sc, 1e-300)), 0.0)
    low = tau < bc
    anchor = 1.0 / np.sqrt(
        1.0 / np.maximum(sc, 1e-300) ** 2 + 2.0 * np.log(np.maximum(bc, 1e-300) / tau) / (x * x)
    )
    guess_low = np.minimum(np.maximum(_low_guess(x, tau), anchor), sc)
    s = np.where(low, guess_low, np.maximum(sc, SQRT_2PI * tau))
    lo = np.where(low, 0.0, sc)
    hi = np.where(low, sc, np.inf)
    s = np.where((s <= lo) | (s >= hi) | ~np.isfinite(s), np.where(low, 0.5 * sc, sc + 0.5), s)
    return s, lo, hi


def _implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: ArrayLike,
    is_call: BoolArray | bool,
    div: ArrayLike,
    tol: float,
    max_iter: int,
) -> IVResult:
    p, s0, k, t, r, q = _arrays(price, spot, strike, years, rate, div)
    call = np.broadcast_to(np.asarray(is_call, dtype=bool), p.shape)
    shape = p.shape
    p, s0, k, t, r, q = (a.ravel() for a in (p, s0, k, t, r, q))
    call = call.ravel()
    n = p.size
    status = np.full(n, IVStatus.OK, dtype=np.int8)
    iv = np.full(n, np.nan)
    iterations = 0
    for lo in range(0, n, CHUNK):
        sl = slice(lo, lo + CHUNK)
        used = _solve_block(
            p[sl], s0[sl], k[sl], t[sl], r[sl], q[sl], call[sl], tol, max_iter, iv[sl], status[sl]
        )
        iterations = max(iterations, used)
    return IVResult(iv.reshape(shape), status.reshape(shape), iterations)


def _solve_block(
    p: FloatArray,
    s0: FloatArray,
    k: FloatArray,
    t: FloatArray,
    r: FloatArray,
    q: FloatArray,
    call: BoolArray,
    tol: float,
    max_iter: int,
    iv: FloatArray,
    status: npt.NDArray[np.int8],
) -> int:
    """One block of contracts; writes ``iv`` and ``status`` (views into the caller's arrays) in place."""
    finite = (
        np.isfinite(p) & np.isfinite(s0) & np.isfinite(k) & np.isfinite(t) & np.isfinite(r) & np.isfinite(q)
    )
    bad = ~finite | (s0 <= 0) | (k <= 0) | (p < 0)
    status[bad] = IVStatus.INVALID_INPUT
    tt = np.where(bad | (t <= 0), 1.0, t)
    status[~bad & (t <= 0)] = IVStatus.EXPIRED

    disc = np.exp(-r * tt)
    fwd = np.where(bad, 1.0, s0) * np.exp((r - q) * tt)
    kk = np.where(bad, 1.0, k)
    intrinsic = np.maximum(np.where(call, fwd - kk, kk - fwd), 0.0) * disc
    upper = np.where(call, fwd, kk) * disc
    pending = status == IVStatus.OK
    status[pending & (p < intrinsic - tol)] = IVStatus.BELOW_INTRINSIC
    status[pending & (p >= upper)] = IVStatus.ABOVE_MAX
    pending = status == IVStatus.OK
    status[pending & (p - intrinsic <= tol)] = IVStatus.NO_TIME_VALUE
    idx = np.flatnonzero(status == IVStatus.OK)

    # normalised out-of-the-money call: x <= 0, target tau = time value / (D sqrt(F K))
    scale = disc[idx] * np.sqrt(fwd[idx] * kk[idx])
    x = -np.abs(np.log(fwd[idx] / kk[idx]))
    tau = (p[idx] - intrinsic[idx]) / scale
    tol_n = tol / scale
    sqrt_t = np.sqrt(tt[idx])
    sc = np.sqrt(-2.0 * x)  # the inflection point of b(s)
    s = table_guess(-x, tau)
    lo = np.zeros_like(s)
    hi = np.full_like(s, np.inf)
    off = ~np.isfinite(s)
    if off.any():  # outside the table (s beyond ~1, prices beyond ~36 sd): the asymptotic guesses
        s[off], lo[off], hi[off] = _fallback_guess(x[off], tau[off], sc[off])

    it = 0
    while idx.size and it < max_iter:
        it += 1
        b = normalised_otm_call(x, s)
        f = b - tau
        # the guess is only ~1e-4 accurate in s: always take one step from it, so a contract with little
        # vega (deep in the money) does not stop at a volatility a few 1e-6 off
        done = np.abs(f) <= tol_n if it > 1 else np.zeros(f.shape, dtype=bool)
        if done.any():
            iv[idx[done]] = s[done] / sqrt_t[done]
            keep = ~done
            idx = idx[keep]
            x, tau, tol_n, s, lo, hi, sc, sqrt_t, b, f = (
                a[keep] for a in (x, tau, tol_n, s, lo, hi, sc, sqrt_t, b, f)
            )
            if not idx.size:
                break
        lo = np.where(f < 0, s, lo)
        hi = np.where(f > 0, s, hi)
        low = s < sc
        v = _vega(x, s)
        s2 = s * s
        s3 = s2 * s
        v2 = v * ((x * x) / s3 - 0.25 * s)  # d2b/ds2
        # Halley on b(s) above the inflection; below it on ln b as a function of u = 1/s^2, which is
        # nearly a straight line there (ln b ~ -x^2 u / 2 + ...), so the steps land close at once
        bb = np.maximum(b, 1e-300)
        vb = v / bb
        ds_du = -0.5 * s3
        g = np.where(low, np.log(bb / tau), f)
        g1 = np.where(low, vb * ds_du, v)
        g2 = np.where(low, (v2 / bb - vb * vb) * ds_du * ds_du + vb * (0.75 * s3 * s2), v2)
        newton = -g / g1
        denom = 1.0 + 0.5 * newton * g2 / g1
        step = np.where(denom > 0.5, newton / denom, newton)
        u_next = 1.0 / s2 + step
        step = np.where(
            low, np.where(u_next > 0, 1.0 / np.sqrt(np.maximum(u_next, 1e-300)), np.inf) - s, step
        )
        nxt = s + step
        bisect = np.where(np.isfinite(hi), 0.5 * (lo + hi), 2.0 * s)
        s = np.where((nxt > lo) & (nxt < hi) & np.isfinite(nxt), nxt, bisect)
        stuck = np.isfinite(hi) & ((hi - lo) <= 4e-16 * hi)
        if stuck.any():  # bracket at machine precision: accept if the residual is near tol
            near = stuck & (np.abs(f) <= 1e3 * tol_n)
            iv[idx[near]] = s[near] / sqrt_t[near]
            status[idx[stuck & ~near]] = IVStatus.NOT_CONVERGED
            keep = ~stuck
            idx = idx[keep]
            x, tau, tol_n, s, lo, hi, sc, sqrt_t = (a[keep] for a in (x, tau, tol_n, s, lo, hi, sc, sqrt_t))
    status[idx] = IVStatus.NOT_CONVERGED
    iv[status != IVStatus.OK] = np.nan
    return it
