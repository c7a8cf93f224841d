"""Option-chain analytics on arrays aligned by strike. Pure numpy, no I/O.

Inputs are one entry per strike, sorted ascending; a side missing at a strike has OI/volume 0 and IV NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mantra.quant.options.normal import FloatArray


def atm_index(strikes: npt.ArrayLike, forward: float) -> int:
    """The strike nearest the forward (the lower one on a tie)."""
    k = np.asarray(strikes, dtype=np.float64)
    if k.size == 0:
        raise ValueError("no strikes")
    return int(np.argmin(np.abs(k - forward)))


def put_call_ratio(put: npt.ArrayLike, call: npt.ArrayLike) -> float | None:
    """Sum of puts over sum of calls (OI or volume); None when no calls traded."""
    c = float(np.sum(np.asarray(call, dtype=np.float64)))
    p = float(np.sum(np.asarray(put, dtype=np.float64)))
    return None if c <= 0 else p / c


def max_pain(strikes: npt.ArrayLike, call_oi: npt.ArrayLike, put_oi: npt.ArrayLike) -> tuple[int, FloatArray]:
    """The settlement strike at which option holders' total payoff is least, and that payoff per strike.

    payoff(S) = sum_i call_oi_i * max(S - K_i, 0) + put_oi_i * max(K_i - S, 0), evaluated at every strike
    as one (n x n) array operation. Ties go to the lowest strike."""
    k = np.asarray(strikes, dtype=np.float64)
    c = np.asarray(call_oi, dtype=np.float64)
    p = np.asarray(put_oi, dtype=np.float64)
    settle = k[:, None]
    pain = np.maximum(settle - k[None, :], 0.0) @ c + np.maximum(k[None, :] - settle, 0.0) @ p
    return int(np.argmin(pain)), pain


@dataclass(frozen=True)
class Skew:
    smile: FloatArray  # per strike: the out-of-the-money side's IV (put below the forward, call above)
    atm_iv: float | None
    put_call_atm: float | None  # put IV - call IV at the ATM strike
    rr25: float | None  # 25-delta risk reversal: IV(call at +0.25) - IV(put at -0.25)
    bf25: float | None  # 25-delta butterfly: (IV(call 25d) + IV(put 25d)) / 2 - ATM IV


def _iv_at_delta(delta: FloatArray, iv: FloatArray, target: float) -> float | None:
    ok = np.isfinite(delta) & np.isfinite(iv)
    d, v = delta[ok], iv[ok]
    if d.size < 2 or not (d.min() <= target <= d.max()):
        return None
    order = np.argsort(d)
    return float(np.interp(target, d[order], v[order]))


def skew(
    strikes: npt.ArrayLike,
    forward: float,
    call_iv: npt.ArrayLike,
    put_iv: npt.ArrayLike,
    call_delta: npt.ArrayLike,
    put_delta: npt.ArrayLike,
) -> Skew:
    k = np.asarray(strikes, dtype=np.float64)
    civ = np.asarray(call_iv, dtype=np.float64)
    piv = np.asarray(put_iv, dtype=np.float64)
    otm_put = k < forward
    smile = np.where(otm_put, piv, civ)
    smile = np.where(np.isfinite(smile), smile, np.where(otm_put, civ, piv))  # the other side if missing
    atm = atm_index(k, forward)
    pc = float(piv[atm] - civ[atm]) if np.isfinite(piv[atm]) and np.isfinite(civ[atm]) else None
    atm_iv_v = float(smile[atm]) if np.isfinite(smile[atm]) else None
    c25 = _iv_at_delta(np.asarray(call_delta, dtype=np.float64), civ, 0.25)
    p25 = _iv_at_delta(np.asarray(put_delta, dtype=np.float64), piv, -0.25)
    rr = None if c25 is None or p25 is None else c25 - p25
    bf = None if c25 is None or p25 is None or atm_iv_v is None else 0.5 * (c25 + p25) - atm_iv_v
    return Skew(smile, atm_iv_v, pc, rr, bf)


def oi_change(oi: npt.ArrayLike, oi_open: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """OI now minus OI at the session's first tick (both integer contract counts)."""
    return np.asarray(oi, dtype=np.int64) - np.asarray(oi_open, dtype=np.int64)


def max_pain_exact(
    strikes_paise: npt.ArrayLike, call_oi: npt.ArrayLike, put_oi: npt.ArrayLike
) -> tuple[int, list[int]]:
    """``max_pain`` in exact integer arithmetic (strikes in paise, OI in shares): the holders' payoff per
    settlement strike in paise x shares, so near-ties are decided exactly, not by float rounding. int64
    when the payoff cannot overflow it (max strike x total OI < 2^62), Python integers otherwise."""
    k = np.asarray(strikes_paise, dtype=np.int64)
    c = np.asarray(call_oi, dtype=np.int64)
    p = np.asarray(put_oi, dtype=np.int64)
    if k.size == 0:
        raise ValueError("no strikes")
    span = int(k.max()) - int(k.min())
    if span * (int(c.sum()) + int(p.sum())) < 2**62:
        d = k[:, None] - k[None, :]  # settle - strike
        pain = (np.maximum(d, 0) @ c + np.maximum(-d, 0) @ p).tolist()
    else:
        ks, cs, ps = k.tolist(), c.tolist(), p.tolist()
        pain = [
            sum(ci * (s - ki) for ki, ci in zip(ks, cs, strict=True) if s > ki)
            + sum(pi * (ki - s) for ki, pi in zip(ks, ps, strict=True) if ki > s)
            for s in ks
        ]
    best = min(pain)
    return pain.index(best), [int(x) for x in pain]


BUILDUPS = ("long_buildup", "short_buildup", "short_covering", "long_unwinding")


def buildup(price_change: float | int | None, oi_change: int | None) -> str | None:
    """How traders read a contract's day: price up + OI up = long build-up, price down + OI up = short
    build-up, price up + OI down = short covering, price down + OI down = long unwinding. None when either
    change is unknown or zero (no direction to read)."""
    if price_change is None or oi_change is None or price_change == 0 or oi_change == 0:
        return None
    if oi_change > 0:
        return "long_buildup" if price_change > 0 else "short_buildup"
    return "short_covering" if price_change > 0 else "long_unwinding"


@dataclass(frozen=True)
class IvStanding:
    percentile: float  # percent of past sessions whose ATM IV was below the current one
    rank: (
        float | None
    )  # (current - low) / (high - low) * 100 over the past sessions; None if they are all equal
    sessions: int
    low: float
    high: float


def iv_standing(current: float, history: npt.ArrayLike) -> IvStanding | None:
    """IV percentile and IV rank of ``current`` against past sessions' ATM IVs (NaNs ignored)."""
    h = np.asarray(history, dtype=np.float64)
    h = h[np.isfinite(h)]
    if h.size == 0 or not np.isfinite(current):
        return None
    low, high = float(h.min()), float(h.max())
    pct = float(np.count_nonzero(h < current)) * 100.0 / h.size
    rank = None if high == low else (current - low) * 100.0 / (high - low)
    return IvStanding(pct, rank, int(h.size), low, high)
