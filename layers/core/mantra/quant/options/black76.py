"""Black-76: European options on the forward of their expiry. Pure numpy, no I/O.

An option chain is priced off the forward of that expiry (the future's price, or the put-call-parity forward),
not off spot with an assumed carry. Black-76 is Black-Scholes-Merton with the forward as the underlying and a
carry equal to the rate (q = r), so the one implementation in ``black_scholes``/``implied_vol`` serves both;
Greeks are then per rupee of the forward (delta = e^{-rT} N(d1)), theta holds the forward fixed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mantra.quant.options.black_scholes import ArrayLike, BoolArray, Greeks, greeks
from mantra.quant.options.implied_vol import IVResult, implied_vol
from mantra.quant.options.normal import FloatArray


def black76_greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    vol: ArrayLike,
    rate: float,
    is_call: BoolArray | bool,
) -> Greeks:
    return greeks(forward, strike, years, vol, rate, is_call, div=rate)


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    vol: ArrayLike,
    rate: float,
    is_call: BoolArray | bool,
) -> FloatArray:
    return greeks(forward, strike, years, vol, rate, is_call, div=rate, price_only=True).price


def black76_implied_vol(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    years: ArrayLike,
    rate: float,
    is_call: BoolArray | bool,
) -> IVResult:
    return implied_vol(price, forward, strike, years, rate, is_call, div=rate)


def parity_forward(
    strikes: npt.ArrayLike,
    call_price: npt.ArrayLike,
    put_price: npt.ArrayLike,
    years: float,
    rate: float,
    nearest: int = 3,
) -> float | None:
    """The forward implied by put-call parity, F = K + e^{rT} (C - P), at the ``nearest`` strikes where both
    sides are priced and |C - P| is least (those nearest the money, where both prices are most informative);
    their median, so one stale leg does not move it. None when no strike has both sides priced."""
    k = np.asarray(strikes, dtype=np.float64)
    c = np.asarray(call_price, dtype=np.float64)
    p = np.asarray(put_price, dtype=np.float64)
    both = np.isfinite(c) & np.isfinite(p) & (c > 0) & (p > 0)
    if not both.any():
        return None
    k, c, p = k[both], c[both], p[both]
    pick = np.argsort(np.abs(c - p), kind="stable")[:nearest]
    growth = float(np.exp(rate * max(years, 0.0)))
    return float(np.median(k[pick] + growth * (c[pick] - p[pick])))
