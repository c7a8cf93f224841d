"""Black-76 on the forward, the put-call-parity forward, exact max pain, build-up and IV percentile/rank."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mantra.quant.options import (
    black76_greeks,
    black76_implied_vol,
    black76_price,
    buildup,
    iv_standing,
    max_pain,
    max_pain_exact,
    parity_forward,
)

R = 0.065


def _b76(f: float, k: float, t: float, v: float, call: bool) -> float:
    """Black (1976), written out with math.erf: the reference the library must agree with."""
    n = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731
    d1 = (math.log(f / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    df = math.exp(-R * t)
    return df * (f * n(d1) - k * n(d2)) if call else df * (k * n(-d2) - f * n(-d1))


@pytest.mark.parametrize("call", [True, False])
def test_black76_prices_match_the_formula_and_iv_recovers_the_vol(call: bool) -> None:
    f, t = 24_130.55, 9 / 365
    k = np.arange(22_500.0, 25_801.0, 100.0)
    v = 0.12 + 0.00002 * np.abs(k - f)
    px = black76_price(f, k, t, v, R, call)
    assert px == pytest.approx(
        [_b76(f, ki, t, vi, call) for ki, vi in zip(k, v, strict=True)], rel=1e-9, abs=1e-9
    )
    res = black76_implied_vol(px, f, k, t, R, call)
    ok = res.ok
    assert ok.mean() > 0.9 and np.allclose(res.iv[ok], v[ok], atol=1e-6)


def test_black76_greeks_are_derivatives_in_the_forward() -> None:
    f, k, t, v = 24_000.0, 24_200.0, 20 / 365, 0.14
    g = black76_greeks(f, k, t, v, R, True)
    h = 0.5
    up, dn = _b76(f + h, k, t, v, True), _b76(f - h, k, t, v, True)
    assert float(g.delta) == pytest.approx((up - dn) / (2 * h), rel=1e-6)
    assert float(g.gamma) == pytest.approx((up - 2 * _b76(f, k, t, v, True) + dn) / h**2, rel=1e-3)
    assert float(g.vega) == pytest.approx(
        (_b76(f, k, t, v + 1e-4, True) - _b76(f, k, t, v - 1e-4, True)) / 2e-4 / 100, rel=1e-6
    )
    # theta holds the forward fixed: one calendar day less to expiry
    day = 1 / 365
    assert float(g.theta) == pytest.approx(_b76(f, k, t - day, v, True) - _b76(f, k, t, v, True), rel=2e-2)


def test_parity_forward_recovers_the_forward_and_shrugs_off_one_stale_leg() -> None:
    f, t = 24_061.4, 30 / 365
    k = np.arange(23_500.0, 24_601.0, 50.0)
    c = black76_price(f, k, t, 0.13, R, True)
    p = black76_price(f, k, t, 0.13, R, False)
    assert parity_forward(k, c, p, t, R) == pytest.approx(f, rel=1e-12)
    stale = p.copy()
    stale[np.argmin(np.abs(k - f))] *= 1.2  # the ATM put's last trade is old
    assert parity_forward(k, c, stale, t, R) == pytest.approx(f, abs=0.5)
    assert parity_forward(k, c, np.full_like(p, np.nan), t, R) is None


def test_exact_max_pain_agrees_with_the_float_one_and_decides_a_near_tie_exactly() -> None:
    rng = np.random.default_rng(7)
    k = np.arange(2_200_000, 2_600_001, 5_000)
    c = rng.integers(0, 8_000_000, k.size)
    p = rng.integers(0, 8_000_000, k.size)
    i, pain = max_pain_exact(k, c, p)
    j, fpain = max_pain(k / 100, c, p)
    assert i == j and np.allclose(np.asarray(pain) / 100, fpain)
    # two strikes whose payoffs differ by one paisa-share at 1e17: float64 sees a tie (and takes the lower
    # strike), integers see the higher strike pays holders less
    k2 = [100_000_000, 100_000_001]
    big = 10**17
    assert max_pain(np.asarray(k2) / 100, [big, 0], [0, big + 1])[0] == 0
    i2, pain2 = max_pain_exact(k2, [big, 0], [0, big + 1])
    assert pain2 == [big + 1, big] and i2 == 1
    # beyond int64 the Python-integer path gives the same answer
    huge = 2**40
    i3, pain3 = max_pain_exact([1, 10**9], [huge, 0], [0, huge + 1])
    assert pain3 == [(huge + 1) * (10**9 - 1), huge * (10**9 - 1)] and i3 == 1


@pytest.mark.parametrize(
    ("price", "oi", "reading"),
    [
        (5, 75, "long_buildup"),
        (-5, 75, "short_buildup"),
        (5, -75, "short_covering"),
        (-5, -75, "long_unwinding"),
        (0, 75, None),
        (5, 0, None),
        (None, 75, None),
        (5, None, None),
    ],
)
def test_buildup_reads_price_and_oi_changes(price: int | None, oi: int | None, reading: str | None) -> None:
    assert buildup(price, oi) == reading


def test_iv_percentile_and_rank_by_hand() -> None:
    history = [0.10, 0.12, 0.14, 0.16, np.nan, 0.20]
    st = iv_standing(0.15, history)
    assert st is not None and st.sessions == 5
    assert st.percentile == pytest.approx(60.0)  # 3 of 5 below
    assert st.rank == pytest.approx(50.0)  # (0.15 - 0.10) / (0.20 - 0.10)
    assert iv_standing(0.15, [0.2, 0.2]).rank is None  # type: ignore[union-attr]
    assert iv_standing(0.15, []) is None
