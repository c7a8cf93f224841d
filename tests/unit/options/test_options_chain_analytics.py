"""Chain analytics: ATM, PCR, max pain, skew, OI change."""

from __future__ import annotations

import numpy as np
import pytest
from mantra.quant.options import atm_index, max_pain, oi_change, put_call_ratio, skew


def test_max_pain_is_the_strike_with_least_holder_payoff_checked_by_hand() -> None:
    strikes = np.array([100.0, 110.0, 120.0])
    call_oi = np.array([0.0, 10.0, 50.0])
    put_oi = np.array([40.0, 10.0, 0.0])
    # settle 100: calls 0, puts 10*10=100 -> 100; settle 110: calls 0, puts 40*0... puts at 110: 0, at 100: 0
    #   -> 0 + put(110 strike)=0 -> only put 100? no: K_i - S with S=110: 100-110<0, 110-110=0 -> 0; calls
    #   S-K: 110-100=10 with oi 0 -> 0 => 0
    # settle 120: calls (120-110)*10 = 100 -> 100
    idx, pain = max_pain(strikes, call_oi, put_oi)
    assert pain.tolist() == [100.0, 0.0, 100.0]
    assert strikes[idx] == 110.0


def test_max_pain_tie_goes_to_the_lowest_strike() -> None:
    idx, _ = max_pain([100.0, 110.0], [0.0, 0.0], [0.0, 0.0])
    assert idx == 0


def test_pcr_by_oi_and_none_without_calls() -> None:
    assert put_call_ratio([30, 70], [50, 50]) == pytest.approx(1.0)
    assert put_call_ratio([10], [0]) is None


def test_atm_is_the_strike_nearest_the_forward() -> None:
    assert atm_index([23900.0, 24000.0, 24100.0], 24040.0) == 1
    assert atm_index([23900.0, 24000.0, 24100.0], 24060.0) == 2


def test_skew_reports_a_negative_risk_reversal_for_a_put_skewed_smile() -> None:
    strikes = np.arange(22000.0, 26001.0, 250.0)
    fwd = 24000.0
    iv = 0.14 - 0.04 * (strikes - fwd) / 2000  # puts (low strikes) richer
    delta_c = np.clip(0.5 - (strikes - fwd) / 3000, 0.01, 0.99)
    delta_p = delta_c - 1.0
    sk = skew(strikes, fwd, iv, iv + 0.005, delta_c, delta_p)
    assert sk.rr25 is not None and sk.rr25 < 0
    assert sk.put_call_atm == pytest.approx(0.005)
    assert sk.atm_iv == pytest.approx(0.14)  # forward sits on a strike: the call side's IV
    assert sk.smile[0] == pytest.approx(iv[0] + 0.005)  # below the forward: the put's IV


def test_oi_change_is_oi_minus_session_open() -> None:
    assert oi_change([1500, 900], [1000, 1200]).tolist() == [500, -300]
