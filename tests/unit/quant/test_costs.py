from __future__ import annotations

import pytest
from mantra.quant.backtest.costs import Brokerage, FractionalCommission, Slippage, indian_costs


def test_equity_delivery_buy_charges_match_a_contract_note_by_hand() -> None:
    # 100 shares at Rs 1,000: STT 0.1 % = 100, NSE txn 0.00297 % = 2.97, SEBI Rs10/crore = 0.10,
    # stamp 0.015 % = 15, brokerage 0, GST 18 % of (0 + 2.97 + 0.10) = 0.5526
    b = indian_costs("equity_delivery").breakdown(1, 100, 1000.0)
    assert b.stt == pytest.approx(100.0)
    assert b.exchange_txn == pytest.approx(2.97)
    assert b.sebi_fee == pytest.approx(0.10)
    assert b.stamp_duty == pytest.approx(15.0)
    assert b.gst == pytest.approx(0.5526)
    assert b.total == pytest.approx(118.6226)


def test_intraday_sell_pays_capped_brokerage_and_sell_side_stt_only() -> None:
    b = indian_costs("equity_intraday").breakdown(-1, 100, 1000.0)
    assert b.brokerage == 20.0  # 0.03 % = 30 capped at 20
    assert b.stt == pytest.approx(25.0)
    assert b.stamp_duty == 0.0
    assert b.total == pytest.approx(20 + 25 + 2.97 + 0.1 + 0.18 * 23.07)


def test_options_buy_flat_brokerage_on_premium_turnover() -> None:
    # 2 lots x 75 at a premium of 100 -> turnover 15,000
    b = indian_costs("options").breakdown(1, 150, 100.0)
    assert b.brokerage == 20.0 and b.stt == 0.0
    assert b.total == pytest.approx(20 + 5.2545 + 0.015 + 0.45 + 0.18 * (20 + 5.2545 + 0.015))


def test_futures_sell_stt_and_custom_broker() -> None:
    c = indian_costs("futures", brokerage=Brokerage(flat=0.0))
    b = c.breakdown(-1, 50, 20_000.0)
    assert b.brokerage == 0.0 and b.stt == pytest.approx(0.0002 * 1_000_000)


def test_unknown_segment_and_bad_commission_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown segment"):
        indian_costs("crypto")
    with pytest.raises(ValueError, match="fraction"):
        FractionalCommission(2.0)


def test_slippage_moves_price_against_the_trader() -> None:
    s = Slippage(ticks=2, tick_size=0.05, bps=10)
    assert s.apply(1, 100.0) == pytest.approx(100.0 + 0.1 + 0.1)
    assert s.apply(-1, 100.0) == pytest.approx(100.0 - 0.2)
