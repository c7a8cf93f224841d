"""Broker packets, parsed by the official SDKs' own parsers, map to our Tick: paise, epoch ms UTC, OI in
contracts, best bid/ask, our tick_id/seq."""

from __future__ import annotations

import pytest
from feed_fakes import SESSION_10AM
from feed_wire import angel_snap_quote, kite_full_quote, kite_message
from mantra.clock import ManualClock
from mantra.domain import Instrument
from mantra.feed.base import Stamper
from mantra.feed.providers import angel, kite

NIFTY_CE = Instrument(
    symbol="NIFTY26N2424350CE", token="43650", exchange="NFO", name="NIFTY CE", instrument_type="CE",
    lot_size=65, underlying="NIFTY", expiry="2026-11-24", strike_paise=2_435_000,
)  # fmt: skip


def test_a_smartapi_snap_quote_becomes_a_tick_in_paise_with_oi_in_contracts(monkeypatch) -> None:
    from SmartApi.smartWebSocketV2 import SmartWebSocketV2

    raw = angel_snap_quote(
        "43650", 2, 12_345, SESSION_10AM + 250, qty=130, volume=65_000, open_=11_000, close=10_500,
        oi=650_000, bid=12_340, ask=12_350,
    )  # fmt: skip
    parsed = SmartWebSocketV2._parse_binary_data(object.__new__(SmartWebSocketV2), raw)
    t = angel.to_tick(parsed, NIFTY_CE, Stamper(ManualClock(SESSION_10AM)))
    assert t is not None
    assert (t.ltp_paise, t.ts_ms, t.last_qty, t.volume) == (12_345, SESSION_10AM + 250, 130, 65_000)
    assert (t.bid_paise, t.ask_paise, t.open_paise, t.prev_close_paise) == (12_340, 12_350, 11_000, 10_500)
    assert t.oi == 10_000 and t.seq == SESSION_10AM * 1000 + 1 and t.tick_id == f"43650-{t.seq}"


def test_a_kite_full_packet_becomes_a_tick_with_utc_milliseconds_and_rounded_paise() -> None:
    from kiteconnect import KiteTicker

    ts_s = SESSION_10AM // 1000
    msg = kite_message(
        kite_full_quote(
            43650,
            12_345,
            ts_s,
            qty=65,
            volume=1300,
            open_=11_005,
            close=10_995,
            oi=130_000,
            bid=12_340,
            ask=12_355,
        )
    )
    (parsed,) = KiteTicker("k", "t")._parse_binary(msg)
    t = kite.to_tick(parsed, NIFTY_CE, Stamper(ManualClock(SESSION_10AM)))
    assert t is not None
    assert (t.ltp_paise, t.ts_ms, t.volume, t.oi) == (12_345, ts_s * 1000, 1300, 2000)
    assert (t.bid_paise, t.ask_paise, t.open_paise, t.prev_close_paise) == (12_340, 12_355, 11_005, 10_995)


@pytest.mark.parametrize("price", [0.0, None])
def test_a_kite_tick_without_a_price_is_skipped(price) -> None:
    assert kite.to_tick({"last_price": price}, NIFTY_CE, Stamper(ManualClock(SESSION_10AM))) is None


def test_an_angel_login_without_credentials_needs_a_person() -> None:
    from mantra.feed.base import NeedsLogin

    provider = angel.AngelProvider(lambda: {"angel_api_key": "k"}, ManualClock(SESSION_10AM))
    with pytest.raises(NeedsLogin, match="angel_client_code"):
        provider.start([NIFTY_CE], lambda _: None)


def test_a_kite_login_without_a_token_needs_the_browser_login() -> None:
    from mantra.feed.base import NeedsLogin

    provider = kite.KiteProvider(lambda: {"kite_api_key": "k"}, ManualClock(SESSION_10AM))
    with pytest.raises(NeedsLogin, match="request_token"):
        provider.start([NIFTY_CE], lambda _: None)
