"""IV + Greeks for 100,000 option contracts: the vectorised library vs a per-contract Python loop
(math.erf pricing + bisection, the py_vollib-style peer), side by side in one run.

    .venv/bin/python bench/bench_options.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core"))

from mantra.quant.options import black_scholes, greeks, implied_vol

N, PEER_N, R = 100_000, 2_000, 0.065


def contracts(n: int, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    s = np.full(n, 24000.0)
    k = np.round(rng.uniform(0.85, 1.15, n) * 24000 / 50) * 50  # NIFTY-like strikes
    t = rng.uniform(1 / (365 * 24), 90 / 365, n)  # an hour to three months
    v = rng.uniform(0.08, 0.45, n)
    call = rng.random(n) < 0.5
    return s, k, t, v, call, black_scholes(s, k, t, v, R, call)


def _bs(s: float, k: float, t: float, v: float, call: bool) -> float:
    sq = v * math.sqrt(t)
    d1 = (math.log(s / k) + (R + 0.5 * v * v) * t) / sq
    d2 = d1 - sq

    def n(x: float) -> float:
        return 0.5 * math.erfc(-x / math.sqrt(2.0))

    if call:
        return s * n(d1) - k * math.exp(-R * t) * n(d2)
    return k * math.exp(-R * t) * n(-d2) - s * n(-d1)


def peer(s, k, t, p, call) -> list[float]:
    out = []
    for si, ki, ti, pi, ci in zip(s, k, t, p, call, strict=True):
        lo, hi = 1e-4, 5.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            f = _bs(si, ki, ti, mid, ci) - pi
            if abs(f) < 1e-6:
                break
            lo, hi = (mid, hi) if f < 0 else (lo, mid)
        v = mid
        sq = v * math.sqrt(ti)
        d1 = (math.log(si / ki) + (R + 0.5 * v * v) * ti) / sq
        pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
        _delta = 0.5 * math.erfc(-d1 / math.sqrt(2.0)) - (0.0 if ci else 1.0)
        _gamma = pdf / (si * sq)
        _vega = si * pdf * math.sqrt(ti) / 100
        out.append(v)
    return out


def timings(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def best_of(fn, repeat: int) -> float:
    return min(timings(fn, repeat))


def main() -> None:
    s, k, t, v, call, p = contracts(N)

    def ours() -> None:
        res = implied_vol(p, s, k, t, R, call)
        greeks(s, k, t, np.where(res.ok, res.iv, 0.2), R, call)

    res = implied_vol(p, s, k, t, R, call)
    ok = res.ok
    err = float(np.max(np.abs(black_scholes(s[ok], k[ok], t[ok], res.iv[ok], R, call[ok]) - p[ok])))
    t_iv = best_of(lambda: implied_vol(p, s, k, t, R, call), 7)
    t_g = best_of(lambda: greeks(s, k, t, v, R, call), 7)
    runs = timings(ours, 15)
    t_all, t_median = min(runs), float(np.median(runs))
    t_peer = best_of(lambda: peer(s[:PEER_N], k[:PEER_N], t[:PEER_N], p[:PEER_N], call[:PEER_N]), 1)
    peer_full = t_peer * N / PEER_N
    print(f"contracts: {N:,}; solved {ok.mean():.1%} (rest: no time value left), max |price error| {err:.1e}")
    print(
        f"ours   IV {t_iv * 1e3:6.1f} ms + Greeks {t_g * 1e3:5.1f} ms; together {t_all * 1e3:6.1f} ms (best of 15; median {t_median * 1e3:.1f})"
    )
    print(f"peer   per-contract Python loop (bisection): {peer_full:6.2f} s (measured on {PEER_N:,}, scaled)")
    print(f"ratio  {peer_full / t_all:,.0f}x; load average {Path('/proc/loadavg').read_text().split()[0]}")


if __name__ == "__main__":
    main()
