"""Simulated option chains: Black-Scholes on a smile, strikes around the money, OI that drifts, NSE expiries."""

from __future__ import annotations

import math
from datetime import date

import pytest
from feed_fakes import SESSION_10AM
from mantra.feed.options_sim import CHAINS, bs_price, expiry_for, next_expiry, option_symbol, smile_vol
from mantra.feed.simulated import SimulatedMarket
from mantra.market.instruments import demo_instruments


def test_black_scholes_matches_a_textbook_value_and_put_call_parity() -> None:
    # Hull: S=42, K=40, r=10%, sigma=20%, T=0.5 -> call 4.76, put 0.81
    assert bs_price(True, 42, 40, 0.5, 0.2, 0.1) == pytest.approx(4.759, abs=1e-3)
    assert bs_price(False, 42, 40, 0.5, 0.2, 0.1) == pytest.approx(0.8086, abs=1e-3)
    c, p = bs_price(True, 24350, 24500, 0.02, 0.13), bs_price(False, 24350, 24500, 0.02, 0.13)
    assert c - p == pytest.approx(24350 - 24500 * math.exp(-0.065 * 0.02), abs=1e-6)


def test_the_smile_is_skewed_to_puts_and_lifted_in_the_wings() -> None:
    atm = smile_vol(0.12, 24000, 24000)
    assert atm == pytest.approx(0.12)
    assert smile_vol(0.12, 24000, 22800) > atm > smile_vol(0.12, 24000, 25200)  # the index skew
    assert smile_vol(0.12, 24000, 30000) > atm  # far wings lifted


def test_expiries_follow_nse_weekly_and_monthly_tuesdays() -> None:
    assert next_expiry(date(2026, 11, 23), weekly=True) == date(2026, 11, 24)
    assert next_expiry(date(2026, 11, 25), weekly=True) == date(2026, 12, 1)
    assert next_expiry(date(2026, 11, 23), weekly=False) == date(2026, 11, 24)  # last Tuesday of November
    assert next_expiry(date(2026, 11, 25), weekly=False) == date(2026, 12, 29)
    assert option_symbol(CHAINS["NIFTY"], date(2026, 11, 24), 2_435_000, "CE") == "NIFTY26N2424350CE"
    assert option_symbol(CHAINS["BANKNIFTY"], date(2026, 11, 24), 5_220_000, "PE") == "BANKNIFTY26NOV52200PE"


def _market(steps: int = 300):
    market = SimulatedMarket(
        demo_instruments(), seed=5, option_chains=["NIFTY", "BANKNIFTY"], start_ms=SESSION_10AM,
        option_tick_probability=0.5,
    )  # fmt: skip
    ticks = [t for i in range(steps) for t in market.next_ticks(SESSION_10AM + i * 200)]
    return market, ticks


def test_each_chain_has_ten_strikes_either_side_of_the_money_calls_and_puts() -> None:
    market, _ = _market(1)
    nifty = [i for i in market.instruments if i.underlying == "NIFTY"]
    assert len(nifty) == 42 and {i.instrument_type for i in nifty} == {"CE", "PE"}
    strikes = sorted({i.strike_paise for i in nifty})
    assert len(strikes) == 21 and strikes[10] == 2_435_000 and strikes[1] - strikes[0] == 5_000
    assert {i.expiry for i in nifty} == {expiry_for(SESSION_10AM, CHAINS["NIFTY"]).isoformat()} and {
        i.exchange for i in nifty
    } == {"NFO"}


def test_option_ticks_are_on_the_grid_with_a_spread_oi_and_growing_volume() -> None:
    market, ticks = _market()
    kinds = {i.symbol: i for i in market.instruments}
    opts = [t for t in ticks if kinds[t.symbol].instrument_type in ("CE", "PE")]
    assert len(opts) > 5000
    last_vol: dict[str, int] = {}
    for t in opts:
        assert t.ltp_paise % 5 == 0 and t.bid_paise <= t.ltp_paise < t.ask_paise and t.oi is not None
        assert (
            t.oi >= 0 and t.volume > last_vol.get(t.symbol, 0) and t.last_qty % kinds[t.symbol].lot_size == 0
        )
        last_vol[t.symbol] = t.volume
    by_symbol: dict[str, set[int]] = {}
    for t in opts:
        by_symbol.setdefault(t.symbol, set()).add(t.oi)
    assert sum(len(v) > 1 for v in by_symbol.values()) > 60  # OI moves on most contracts


def test_option_prices_follow_the_model_deep_itm_calls_near_intrinsic_and_otm_puts_cheaper() -> None:
    market, ticks = _market(50)
    last = {t.symbol: t for t in ticks}
    spot = market.price("NIFTY 50")
    nifty = {i.symbol: i for i in market.instruments if i.underlying == "NIFTY"}
    deep_call = min((i for i in nifty.values() if i.instrument_type == "CE"), key=lambda i: i.strike_paise)
    assert last[deep_call.symbol].ltp_paise >= (spot - deep_call.strike_paise) * 0.98
    puts = sorted((i for i in nifty.values() if i.instrument_type == "PE"), key=lambda i: i.strike_paise)
    assert last[puts[0].symbol].ltp_paise < last[puts[-1].symbol].ltp_paise


def test_adding_option_chains_leaves_the_equity_path_unchanged() -> None:
    plain = SimulatedMarket(demo_instruments(), seed=5)
    _, with_chains = _market(20)
    base = [t for i in range(20) for t in plain.next_ticks(SESSION_10AM + i * 200)]
    assert base == [t for t in with_chains if t.oi is None]
