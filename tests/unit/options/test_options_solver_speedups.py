"""The fast paths of the IV solver: the tabulated first guess, its fallback, and block-wise evaluation."""

from __future__ import annotations

import numpy as np
from mantra.quant.options import IVStatus, black_scholes, greeks, implied_vol
from mantra.quant.options.black_scholes import CHUNK
from mantra.quant.options.initial_guess import normalised_otm_call, table_guess

R = 0.065


def test_table_guess_is_within_2e_4_of_the_exact_normalised_vol_across_moneyness_and_size() -> None:
    rng = np.random.default_rng(5)
    a = rng.uniform(0.0, 3.0, 50_000) ** 2
    s = np.exp(rng.uniform(np.log(1e-4), np.log(0.95), 50_000))
    beta = normalised_otm_call(-a, s)
    keep = beta > 1e-280
    with np.errstate(all="ignore"):
        guess = table_guess(a[keep], beta[keep])
    assert np.all(np.isfinite(guess))
    assert np.max(np.abs(guess / s[keep] - 1.0)) < 2e-4


def test_table_guess_is_nan_outside_the_table_so_the_solver_falls_back() -> None:
    with np.errstate(all="ignore"):
        far = table_guess(
            np.array([0.1, 0.0]), normalised_otm_call(np.array([-0.1, 0.0]), np.array([3.0, 2.5]))
        )
    assert np.all(np.isnan(far))


def test_high_vol_long_dated_contracts_beyond_the_table_still_round_trip() -> None:
    # Given s = sigma sqrt(T) from 1 to 4, beyond the tabulated guess
    k = np.array([12000.0, 24000.0, 48000.0, 30000.0])
    t = np.array([2.0, 3.0, 2.5, 4.0])
    v = np.array([0.9, 1.5, 2.0, 2.0])
    call = np.array([True, False, True, False])
    p = black_scholes(24000.0, k, t, v, R, call)
    # When inverted
    res = implied_vol(p, 24000.0, k, t, R, call)
    # Then every one converges and reprices within 1e-6
    assert res.status.tolist() == [IVStatus.OK] * 4
    assert np.max(np.abs(black_scholes(24000.0, k, t, res.iv, R, call) - p)) <= 1e-6
    assert np.allclose(res.iv, v, rtol=1e-6)


def test_blocks_give_the_same_answer_as_one_contract_at_a_time_across_block_edges() -> None:
    # Given more contracts than two blocks, in a 2-D shape, with a scalar spot broadcast
    rng = np.random.default_rng(8)
    n = 2 * CHUNK + 6
    k = (rng.uniform(0.8, 1.2, n) * 24000).reshape(2, -1)
    t = rng.uniform(1 / (365 * 24), 0.5, n).reshape(2, -1)
    v = rng.uniform(0.05, 0.8, n).reshape(2, -1)
    call = (rng.random(n) < 0.5).reshape(2, -1)
    p = black_scholes(24000.0, k, t, v, R, call)
    # When solved in one call
    res = implied_vol(p, 24000.0, k, t, R, call)
    g = greeks(24000.0, k, t, v, R, call)
    # Then shapes are kept, and contracts at the block edges match their single-contract answers
    assert res.iv.shape == k.shape and g.delta.shape == k.shape
    for j in (0, CHUNK - 1, CHUNK, k.shape[1] - 1):
        for i in (0, 1):
            one = implied_vol(p[i, j], 24000.0, k[i, j], t[i, j], R, call[i, j])
            assert one.status == res.status[i, j]
            assert np.array_equal(np.asarray(one.iv), np.asarray(res.iv[i, j]), equal_nan=True)
            single = greeks(24000.0, k[i, j], t[i, j], v[i, j], R, call[i, j])
            assert single.delta == g.delta[i, j] and single.vega == g.vega[i, j]
    ok = res.status == IVStatus.OK
    assert ok.mean() > 0.9
    assert np.max(np.abs(black_scholes(24000.0, k[ok], t[ok], res.iv[ok], R, call[ok]) - p[ok])) <= 1e-6
