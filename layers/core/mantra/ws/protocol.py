"""The wire protocol: JSON text frames, parsed with pydantic; server frames use the REST API's schemas.

Client -> server::

    {"action": "subscribe", "channel": "quotes", "symbols": ["RELIANCE"]}
    {"action": "subscribe", "channel": "candles", "symbols": ["SBIN"], "tf": "1m"}
    {"action": "unsubscribe", "channel": "quotes", "symbols": ["RELIANCE"]}
    {"action": "ping"}

Server -> client: ``{"type": "quote", "data": QuoteOut}``, ``{"type": "candle", "symbol", "tf", "data":
CandleOut}``, ``{"type": "notification", "data": NotificationOut}``, ``{"type": "subscribed" | "unsubscribed",
"channel", "symbols", "tf"}``, ``{"type": "pong"}`` and ``{"type": "error", "message"}`` for a bad frame (the
socket stays open). Money is Decimal rupees as strings, exactly as the REST API answers.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from frontend_api.schemas import CandleOut, NotificationOut, QuoteOut
from mantra.domain import Candle, Notification, Quote
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.ws.models import CANDLES, QUOTES, candle_topic, quote_topic

MAX_SYMBOLS_PER_FRAME = 50


class ProtocolError(ValueError):
    """A frame the server cannot act on; ``message`` goes back to the client in an error frame."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ChannelFrame(_Frame):
    channel: Literal["quotes", "candles"]
    symbols: tuple[str, ...] = Field(min_length=1, max_length=MAX_SYMBOLS_PER_FRAME)
    tf: str | None = None

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(dict.fromkeys(s.strip().upper() for s in v))
        if any(not s or len(s) > 40 or "#" in s for s in out):
            raise ValueError("symbols are instrument symbols such as RELIANCE")
        return out

    @model_validator(mode="after")
    def _timeframe(self) -> _ChannelFrame:
        if self.channel == CANDLES:
            if self.tf not in TIMEFRAMES_MS:
                raise ValueError(f"candles need tf, one of {', '.join(TIMEFRAMES_MS)}")
        elif self.tf is not None:
            raise ValueError("tf applies to the candles channel only")
        return self

    def topics(self) -> dict[str, str]:
        """topic -> symbol."""
        if self.channel == QUOTES:
            return {quote_topic(s): s for s in self.symbols}
        assert self.tf is not None
        return {candle_topic(s, self.tf): s for s in self.symbols}


class Subscribe(_ChannelFrame):
    action: Literal["subscribe"]


class Unsubscribe(_ChannelFrame):
    action: Literal["unsubscribe"]


class Ping(_Frame):
    action: Literal["ping"]


ClientFrame = Annotated[Subscribe | Unsubscribe | Ping, Field(discriminator="action")]
_CLIENT_FRAME: TypeAdapter[Subscribe | Unsubscribe | Ping] = TypeAdapter(ClientFrame)
ACTIONS = ("subscribe", "unsubscribe", "ping")


def parse_frame(body: str | None) -> Subscribe | Unsubscribe | Ping:
    """One client frame, or a ``ProtocolError`` that says what to send instead."""
    try:
        raw = json.loads(body or "")
    except ValueError:
        raise ProtocolError('frames are JSON objects, e.g. {"action": "ping"}') from None
    if not isinstance(raw, dict):
        raise ProtocolError('frames are JSON objects, e.g. {"action": "ping"}')
    if raw.get("action") not in ACTIONS:
        raise ProtocolError(f"unknown action {raw.get('action')!r}; use one of {', '.join(ACTIONS)}")
    try:
        return _CLIENT_FRAME.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise ProtocolError(f"{where}: {first['msg']}") from None


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def quote_frame(quote: Quote) -> str:
    return _dump({"type": "quote", "data": QuoteOut.of(quote).model_dump(mode="json")})


def candle_frame(candle: Candle) -> str:
    return _dump(
        {
            "type": "candle",
            "symbol": candle.symbol,
            "tf": candle.timeframe,
            "data": CandleOut.of(candle).model_dump(mode="json"),
        }
    )


def notification_frame(notification: Notification) -> str:
    return _dump({"type": "notification", "data": NotificationOut.of(notification).model_dump(mode="json")})


def ack_frame(kind: Literal["subscribed", "unsubscribed"], frame: _ChannelFrame) -> str:
    return _dump({"type": kind, "channel": frame.channel, "symbols": list(frame.symbols), "tf": frame.tf})


def pong_frame() -> str:
    return _dump({"type": "pong"})


def error_frame(message: str) -> str:
    return _dump({"type": "error", "message": message})
