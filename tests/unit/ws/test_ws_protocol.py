"""The wire protocol: client frames parse or explain themselves; server frames match the REST schemas."""

from __future__ import annotations

import json

import pytest
from mantra.domain import Candle, Notification, Quote
from mantra.ws import protocol

from frontend_api.schemas import CandleOut, NotificationOut, QuoteOut

QUOTE = Quote(
    symbol="SBIN",
    ltp_paise=81255,
    open_paise=80900,
    high_paise=81400,
    low_paise=80810,
    prev_close_paise=80750,
    bid_paise=81250,
    ask_paise=None,
    volume=1254300,
    tick_ts_ms=1_795_400_000_400,
    tick_id="3045-2",
    seq=2,
    session_date="2026-11-23",
)


def test_subscribe_frames_name_their_topics_with_symbols_upper_cased():
    frame = protocol.parse_frame(
        '{"action": "subscribe", "channel": "candles", "symbols": ["sbin", "SBIN"], "tf": "5m"}'
    )
    assert isinstance(frame, protocol.Subscribe)
    assert frame.topics() == {"candles#SBIN#5m": "SBIN"}
    quotes = protocol.parse_frame('{"action": "unsubscribe", "channel": "quotes", "symbols": ["RELIANCE"]}')
    assert isinstance(quotes, protocol.Unsubscribe)
    assert quotes.topics() == {"quotes#RELIANCE": "RELIANCE"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "JSON objects"),
        ("[1, 2]", "JSON objects"),
        (None, "JSON objects"),
        ('{"action": "subscribe", "channel": "candles", "symbols": ["SBIN"]}', "candles need tf"),
        ('{"action": "subscribe", "channel": "quotes", "symbols": ["SBIN"], "tf": "1m"}', "tf applies"),
        ('{"action": "subscribe", "channel": "trades", "symbols": ["SBIN"]}', "channel"),
        ('{"action": "subscribe", "channel": "quotes", "symbols": []}', "symbols"),
        ('{"action": "subscribe", "channel": "quotes", "symbols": ["A#B"]}', "symbols"),
        ('{"action": "subcribe"}', "unknown action 'subcribe'"),
        ('{"action": "ping", "extra": 1}', "extra"),
    ],
)
def test_a_bad_frame_is_a_protocol_error_that_says_what_is_wrong(body, says):
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.parse_frame(body)
    assert says in err.value.message


def test_quote_candle_and_notification_frames_carry_the_rest_api_shapes():
    q = json.loads(protocol.quote_frame(QUOTE))
    assert q == {"type": "quote", "data": QuoteOut.of(QUOTE).model_dump(mode="json")}
    assert q["data"]["ltp"] == "812.55"  # Decimal rupees as a string, never a float
    candle = Candle(
        symbol="SBIN",
        timeframe="1m",
        start_ms=1_795_399_980_000,
        open_paise=81200,
        high_paise=81300,
        low_paise=81100,
        close_paise=81255,
        volume=900,
        ticks=12,
        first_tick_ms=1_795_399_980_100,
        last_tick_ms=1_795_400_000_400,
    )
    c = json.loads(protocol.candle_frame(candle))
    assert c == {
        "type": "candle",
        "symbol": "SBIN",
        "tf": "1m",
        "data": CandleOut.of(candle).model_dump(mode="json"),
    }
    n = Notification(
        notification_id="ntf_1",
        tenant_id="tnt_pro",
        user_id="usr_pro",
        kind="alert.triggered",
        title="SBIN crossed above ₹812.50",
        body="at ₹812.55",
        data={"symbol": "SBIN"},
        read=False,
        created_ms=1_795_400_000_500,
    )
    assert json.loads(protocol.notification_frame(n)) == {
        "type": "notification",
        "data": NotificationOut.of(n).model_dump(mode="json"),
    }
