"""Black-Scholes(-Merton) prices and Greeks for arrays of European options. Pure numpy, no I/O.

Conventions: rates and volatilities are decimals (0.065, 0.14); ``div`` is the continuous dividend yield or
carry ``q`` (0 for NSE indices priced off spot); ``years`` is calendar time to expiry (ACT/365, see
``years_to_expiry``); ``is_call`` is a boolean array (True = CE, False = PE). Every argument broadcasts.

Greeks: ``delta`` and ``gamma`` per 1 rupee of the underlying; ``theta`` per calendar day; ``vega`` per one
volatility point (1 %); ``rho`` per one percentage point of the rate. At or after expiry (years <= 0) the
price is the intrinsic value, delta the exercise indicator and the other Greeks are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from mantra.quant.options.normal import FloatArray, norm_cdf, norm_pdf

BoolArray = npt.NDArray[np.bool_]
ArrayLike = FloatArray | float
DAYS_PER_YEAR = 365.0
EXPIRY_UTC_MS_OF_DAY = 10 * 3_600_000  # 15:30 IST = 10:00 UTC: NSE derivatives expire at the close
MS_PER_DAY = 86_400_000
MS_PER_YEAR = DAYS_PER_YEAR * MS_PER_DAY
CHUNK = 16_384  # contracts per block in greeks / implied_vol


@dataclass(frozen=True)
class Greeks:
    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray  # per calendar day
    vega: FloatArray  # per vol point
    rho: FloatArray  # per rate point


def years_to_expiry(expiry: str | date | npt.ArrayLike, now_ms: int | npt.ArrayLike) -> FloatArray:
    """Calendar years (ACT/365) from ``now_ms`` (epoch ms UTC) to 15:30 IST on each ISO ``expiry`` date.
    Negative once the contract has expired."""
    days = np.asarray(np.asarray(expiry, dtype="datetime64[D]").astype(np.int64), dtype=np.float64)
    expiry_ms = days * MS_PER_DAY + EXPIRY_UTC_MS_OF_DAY
    return np.asarray((expiry_ms - np.asarray(now_ms, dtype=np.float64)) / MS_PER_YEAR, dtype=np.float64)


def _arrays(*xs: npt.ArrayLike) -> list[FloatArray]:
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*[np.asarray(x) for x in xs])]


def black_scholes(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: BoolArray | bool,
    div: ArrayLike = 0.0,
) -> FloatArray:
    """Option prices (each leg's tail probabilities are computed directly, so deep out-of-the-money prices
    keep their relative precision)."""
    return greeks(spot, strike, years, vol, rate, is_call, div, price_only=True).price


def greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: BoolArray | bool,
    div: ArrayLike = 0.0,
    *,
    price_only: bool = False,
) -> Greeks:
    s, k, t, v, r, q = _arrays(spot, strike, years, vol, rate, div)
    call = np.broadcast_to(np.asarray(is_call, dtype=bool), s.shape)
    shape = s.shape
    n = s.size
    if n <= CHUNK:
        return _greeks_block(s, k, t, v, r, q, call, price_only=price_only)
    # blocks of CHUNK contracts: every temporary stays in cache and off the page-fault path
    s, k, t, v, r, q = (a.reshape(-1) for a in (s, k, t, v, r, q))
    flat_call = call.reshape(-1)
    fields = 1 if price_only else 6
    out = np.empty((fields, n))
    for lo in range(0, n, CHUNK):
        sl = slice(lo, lo + CHUNK)
        part = _greeks_block(s[sl], k[sl], t[sl], v[sl], r[sl], q[sl], flat_call[sl], price_only=price_only)
        for i, a in enumerate((part.price, part.delta, part.gamma, part.theta, part.vega, part.rho)[:fields]):
            out[i, sl] = a
    if price_only:
        price = out[0].reshape(shape)
        zero = np.zeros_like(price)
        return Greeks(price, zero, zero, zero, zero, zero)
    return Greeks(*(out[i].reshape(shape) for i in range(6)))


def _greeks_block(
    s: FloatArray,
    k: FloatArray,
    t: FloatArray,
    v: FloatArray,
    r: FloatArray,
    q: FloatArray,
    call: BoolArray,
    *,
    price_only: bool,
) -> Greeks:
    live = (t > 0) & (v > 0)
    tt = np.where(live, t, 1.0)
    vv = np.where(live, v, 1.0)
    sq = np.sqrt(tt)
    sig = vv * sq
    dq = np.exp(-q * tt)
    dr = np.exp(-r * tt)
    d1 = (np.log(s / k) + (r - q) * tt) / sig + 0.5 * sig
    d2 = d1 - sig
    sign = np.where(call, 1.0, -1.0)
    # N(sign*d1), N(sign*d2): the leg's own probabilities, accurate in the tails
    n1 = norm_cdf(sign * d1)
    n2 = norm_cdf(sign * d2)
    sf, kd = s * dq, k * dr
    price = sign * (sf * n1 - kd * n2)
    intrinsic = np.maximum(sign * (s - k), 0.0)
    price = np.where(live, np.maximum(price, 0.0), intrinsic)
    zero = np.zeros_like(price)
    if price_only:
        return Greeks(price, zero, zero, zero, zero, zero)
    pdf = norm_pdf(d1)
    delta = np.where(live, sign * dq * n1, np.where(intrinsic > 0, sign, 0.0))
    gamma = np.where(live, dq * pdf / (s * sig), 0.0)
    vega = np.where(live, sf * pdf * sq / 100.0, 0.0)
    theta_year = -sf * pdf * vv / (2.0 * sq) - sign * r * kd * n2 + sign * q * sf * n1
    theta = np.where(live, theta_year / DAYS_PER_YEAR, 0.0)
    rho = np.where(live, sign * kd * tt * n2 / 100.0, 0.0)
    return Greeks(price, delta, gamma, theta, vega, rho)
