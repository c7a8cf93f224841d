"""Black-Scholes prices, Greeks and the normal CDF against independent references."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
from mantra.clock import IST
from mantra.quant.options import black_scholes, greeks, norm_cdf, years_to_expiry


def test_norm_cdf_matches_math_erfc_to_5e13_relative_deep_in_both_tails() -> None:
    x = np.linspace(-37.0, 37.0, 7401)
    ref = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    got = norm_cdf(x)
    assert np.max(np.abs(got - ref) / ref) < 5e-13
    assert norm_cdf(np.array([np.inf]))[0] == 1.0 and norm_cdf(np.array([-np.inf]))[0] == 0.0
    assert np.isnan(norm_cdf(np.array([np.nan]))[0])


def _mp_price(s: float, k: float, t: float, v: float, r: float, q: float, call: bool) -> float:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    s_, k_, t_, v_, r_, q_ = (mp.mpf(a) for a in (s, k, t, v, r, q))
    d1 = (mp.log(s_ / k_) + (r_ - q_ + v_**2 / 2) * t_) / (v_ * mp.sqrt(t_))
    d2 = d1 - v_ * mp.sqrt(t_)
    if call:
        return float(s_ * mp.e ** (-q_ * t_) * mp.ncdf(d1) - k_ * mp.e ** (-r_ * t_) * mp.ncdf(d2))
    return float(k_ * mp.e ** (-r_ * t_) * mp.ncdf(-d2) - s_ * mp.e ** (-q_ * t_) * mp.ncdf(-d1))


@pytest.mark.parametrize(
    ("spot", "strike", "years", "vol", "call"),
    [
        (24000.0, 24000.0, 30 / 365, 0.14, True),  # ATM monthly
        (24000.0, 30000.0, 7 / 365, 0.12, True),  # deep OTM call, a week out
        (24000.0, 18000.0, 7 / 365, 0.20, False),  # deep OTM put
        (24000.0, 18000.0, 30 / 365, 0.15, True),  # deep ITM call
        (24000.0, 24100.0, 15 / (365 * 24 * 60), 0.12, True),  # 15 minutes to expiry
    ],
)
def test_price_matches_40_digit_reference(
    spot: float, strike: float, years: float, vol: float, call: bool
) -> None:
    ref = _mp_price(spot, strike, years, vol, 0.065, 0.01, call)
    got = float(black_scholes(spot, strike, years, vol, 0.065, call, 0.01))
    assert abs(got - ref) <= 1e-9 * max(1.0, spot)
    if ref > 1e-200:
        assert abs(got - ref) / ref < 1e-9 or abs(got - ref) < 1e-12


def test_put_call_parity_holds_across_strikes_and_expiries() -> None:
    k = np.linspace(15000, 35000, 401)
    t = np.geomspace(1 / (365 * 24 * 60), 2.0, 401)
    s, r, q, v = 24000.0, 0.065, 0.012, 0.18
    c = black_scholes(s, k, t, v, r, True, q)
    p = black_scholes(s, k, t, v, r, False, q)
    assert np.max(np.abs((c - p) - (s * np.exp(-q * t) - k * np.exp(-r * t)))) < 1e-8


def test_greeks_match_finite_differences() -> None:
    s, k, t, v, r, q = 24000.0, np.array([22000.0, 24000.0, 26000.0]), 20 / 365, 0.16, 0.065, 0.0
    for call in (True, False):
        g = greeks(s, k, t, v, r, call, q)
        h = 0.5

        def px(ss: float = s, tt: float = t, vv: float = v, rr: float = r, call: bool = call) -> np.ndarray:
            return black_scholes(ss, k, tt, vv, rr, call, q)

        assert np.allclose(g.delta, (px(ss=s + h) - px(ss=s - h)) / (2 * h), atol=1e-6)
        assert np.allclose(g.gamma, (px(ss=s + h) - 2 * px() + px(ss=s - h)) / h**2, atol=1e-6)
        assert np.allclose(g.vega, (px(vv=v + 1e-5) - px(vv=v - 1e-5)) / 2e-5 / 100, rtol=1e-5)
        assert np.allclose(g.rho, (px(rr=r + 1e-6) - px(rr=r - 1e-6)) / 2e-6 / 100, rtol=1e-4, atol=1e-6)
        day = 1 / 365
        assert np.allclose(g.theta, (px(tt=t - day * 1e-3) - px(tt=t + day * 1e-3)) / 2e-3, rtol=1e-4)


def test_expired_contract_is_worth_its_intrinsic_value_with_zero_greeks() -> None:
    g = greeks(24000.0, np.array([23000.0, 25000.0]), 0.0, 0.2, 0.065, True)
    assert g.price.tolist() == [1000.0, 0.0]
    assert g.delta.tolist() == [1.0, 0.0]
    assert g.gamma.tolist() == [0.0, 0.0] and g.vega.tolist() == [0.0, 0.0]


def test_years_to_expiry_counts_to_1530_ist_on_the_expiry_date() -> None:
    now = datetime(2026, 11, 24, 9, 30, tzinfo=IST)
    years = years_to_expiry(["2026-11-24", "2026-11-25"], int(now.timestamp() * 1000))
    assert years[0] == pytest.approx(6 / 24 / 365)
    assert years[1] == pytest.approx(30 / 24 / 365)
    after = int(datetime(2026, 11, 24, 15, 31, tzinfo=IST).timestamp() * 1000)
    assert years_to_expiry("2026-11-24", after) < 0
