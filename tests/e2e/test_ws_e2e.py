"""Real-time push on the running platform: sign in, open /ws with the token, follow SBIN, get quotes."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from conftest import Platform
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.e2e


def ws_url(platform: Platform, token: str) -> str:
    return platform.base_url.replace("http://", "ws://") + f"/ws?token={token}"


def next_frame(ws: ClientConnection, kind: str, within_s: float = 10.0) -> dict:
    deadline = time.monotonic() + within_s
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} frame within {within_s} s"
        frame = json.loads(ws.recv(timeout=left))
        if frame["type"] == kind:
            return frame


def test_a_signed_in_trader_subscribes_to_sbin_and_receives_quote_frames(platform: Platform):
    # Given a token from POST /auth/token
    token = platform.token()
    with connect(ws_url(platform, token), open_timeout=10) as ws:
        # When they subscribe to SBIN quotes
        ws.send(json.dumps({"action": "subscribe", "channel": "quotes", "symbols": ["SBIN"]}))
        assert next_frame(ws, "subscribed")["symbols"] == ["SBIN"]
        # Then quote frames for SBIN arrive within a few seconds, in the REST API's shape
        frame = next_frame(ws, "quote", within_s=10)
        assert frame["data"]["symbol"] == "SBIN"
        assert Decimal(frame["data"]["ltp"]) > 0
        rest = platform.client(token).get("/api/quotes/SBIN").json()
        assert set(frame["data"]) == set(rest)


def test_candles_arrive_for_the_subscribed_timeframe(platform: Platform):
    with connect(ws_url(platform, platform.token()), open_timeout=10) as ws:
        ws.send(json.dumps({"action": "subscribe", "channel": "candles", "symbols": ["SBIN"], "tf": "1m"}))
        frame = next_frame(ws, "candle", within_s=10)
        assert (frame["symbol"], frame["tf"]) == ("SBIN", "1m")
        assert set(frame["data"]) == {"start", "open", "high", "low", "close", "volume", "ticks", "source"}
        assert frame["data"]["source"] == "demo"  # the local platform's feed is the labelled simulated one


def test_a_bad_token_is_refused_at_the_handshake(platform: Platform):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(platform, "not-a-token"), open_timeout=10)
    assert refused.value.response.status_code in (401, 403)
    with pytest.raises(InvalidStatus):
        connect(platform.base_url.replace("http://", "ws://") + "/ws", open_timeout=10)


def test_a_malformed_frame_gets_an_error_frame_and_the_socket_stays_open(platform: Platform):
    with connect(ws_url(platform, platform.token()), open_timeout=10) as ws:
        ws.send("{not json")
        assert next_frame(ws, "error")["message"].startswith("frames are JSON objects")
        ws.send(json.dumps({"action": "subscribe", "channel": "quotes", "symbols": ["NOSUCH"]}))
        assert "unknown symbol" in next_frame(ws, "error")["message"]
        ws.send(json.dumps({"action": "ping"}))
        assert next_frame(ws, "pong") == {"type": "pong"}


def test_the_local_management_api_answers_410_for_an_unknown_connection(platform: Platform):
    with platform.client() as http:
        assert http.post("/@connections/nobody", content=b"{}").status_code == 410
        assert http.get("/@connections/nobody").status_code == 410
        assert http.delete("/@connections/nobody").status_code == 410
