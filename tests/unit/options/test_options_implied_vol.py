"""Implied volatility: round trips, no-arbitrage bounds, near-expiry and deep-wing contracts."""

from __future__ import annotations

import numpy as np
from mantra.quant.options import IVStatus, black_scholes, implied_vol

R = 0.065


def _bisect_vol(price: float, s: float, k: float, t: float, call: bool) -> float:
    lo, hi = 1e-6, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(black_scholes(s, k, t, mid, R, call)) < price:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def test_round_trip_reprices_within_1e_6_for_random_chain_contracts() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    s = np.full(n, 24000.0)
    k = rng.uniform(0.7, 1.3, n) * 24000
    t = rng.uniform(10 / (365 * 24 * 60), 0.5, n)
    v = rng.uniform(0.05, 0.9, n)
    call = rng.random(n) < 0.5
    p = black_scholes(s, k, t, v, R, call)
    res = implied_vol(p, s, k, t, R, call)
    ok = res.status == IVStatus.OK
    # the rest are prices within 1e-6 of intrinsic (wings minutes from expiry): no time value to invert
    assert set(np.unique(res.status[~ok]).tolist()) <= {IVStatus.NO_TIME_VALUE}
    intrinsic = np.maximum(np.where(call, s - k * np.exp(-R * t), k * np.exp(-R * t) - s), 0)
    assert np.all(p[~ok] - intrinsic[~ok] <= 1e-6)
    assert ok.mean() > 0.9
    assert np.max(np.abs(black_scholes(s[ok], k[ok], t[ok], res.iv[ok], R, call[ok]) - p[ok])) <= 1e-6
    assert np.all(np.isfinite(res.iv[ok])) and np.all(np.isnan(res.iv[~ok]))


def test_iv_matches_a_200_step_bisection_for_deep_itm_otm_and_minutes_to_expiry() -> None:
    cases = [
        (24000.0, 20000.0, 14 / 365, 0.22, True, 4003.5),  # deep ITM call, little time value
        (24000.0, 28000.0, 14 / 365, 0.30, False, 4000.0),  # deep ITM put
        (24000.0, 27000.0, 30 / 365, 0.20, True, 0.0),  # deep OTM call
        (24000.0, 21000.0, 7 / 365, 0.35, False, 0.0),  # deep OTM put (the skewed wing)
        (24000.0, 24050.0, 20 / (365 * 24 * 60), 0.15, True, 0.0),  # 20 minutes left, near the money
    ]
    for s, k, t, v, call, _ in cases:
        price = float(black_scholes(s, k, t, v, R, call))
        res = implied_vol(price, s, k, t, R, call)
        assert res.status == IVStatus.OK, (s, k, t, v, call, res.status)
        assert abs(float(res.iv) - _bisect_vol(price, s, k, t, call)) < 1e-6 * max(
            1.0, 1 / max(float(black_scholes(s, k, t, v, R, call, 0.0)), 1e-3)
        )
        assert abs(float(black_scholes(s, k, t, float(res.iv), R, call)) - price) <= 1e-6


def test_prices_outside_no_arbitrage_bounds_get_nan_and_a_reason() -> None:
    s, t = 24000.0, 30 / 365
    prices = np.array([900.0, 24001.0, 100.0, -1.0, 100.0, np.nan, 3000.0])
    strikes = np.array([23000.0, 24000.0, 24000.0, 24000.0, 24000.0, 24000.0, 21000.0 * 0 + 21000.0])
    years = np.array([t, t, 0.0, t, t, t, t])
    spots = np.array([s, s, s, s, 0.0, s, s])
    res = implied_vol(prices, spots, strikes, years, R, True)
    intrinsic_itm = s - 21000.0 * np.exp(-R * t)
    assert intrinsic_itm > 3000.0  # the last one is below intrinsic too
    assert res.status.tolist() == [
        IVStatus.BELOW_INTRINSIC,  # 900 < 1000 + carry on a 23000 call
        IVStatus.ABOVE_MAX,  # a call worth more than the underlying
        IVStatus.EXPIRED,
        IVStatus.INVALID_INPUT,  # negative price
        IVStatus.INVALID_INPUT,  # zero spot
        IVStatus.INVALID_INPUT,  # NaN price
        IVStatus.BELOW_INTRINSIC,
    ]
    assert np.all(np.isnan(res.iv))


def test_price_equal_to_intrinsic_has_no_time_value_to_invert() -> None:
    s, k, t = 24000.0, 20000.0, 7 / 365
    intrinsic = s - k * np.exp(-R * t)
    res = implied_vol(intrinsic, s, k, t, R, True)
    assert res.status == IVStatus.NO_TIME_VALUE and np.isnan(res.iv)


def test_shapes_are_preserved_and_put_and_call_at_one_strike_agree() -> None:
    s, k, t, v = 24000.0, np.array([[23500.0, 24500.0]]), 10 / 365, 0.17
    c = black_scholes(s, k, t, v, R, True)
    p = black_scholes(s, k, t, v, R, False)
    rc, rp = implied_vol(c, s, k, t, R, True), implied_vol(p, s, k, t, R, False)
    assert rc.iv.shape == (1, 2) and rc.status.shape == (1, 2)
    assert np.allclose(rc.iv, v, atol=1e-7) and np.allclose(rp.iv, v, atol=1e-7)
