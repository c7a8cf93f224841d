"""WebSocket domain objects: a connection, topics and what a push or a sweep did."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

QUOTES = "quotes"
CANDLES = "candles"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class WsConnection(_Frozen):
    connection_id: str
    tenant_id: str
    user_id: str
    connected_ms: int
    expires_ms: int
    topics: frozenset[str] = frozenset()

    @property
    def owner(self) -> str:
        return owner_key(self.tenant_id, self.user_id)


def owner_key(tenant_id: str, user_id: str) -> str:
    """The inbox owner key: the same ``{tenant_id}#{user_id}`` the notifications table is keyed on."""
    return f"{tenant_id}#{user_id}"


def quote_topic(symbol: str) -> str:
    return f"{QUOTES}#{symbol}"


def candle_topic(symbol: str, timeframe: str) -> str:
    return f"{CANDLES}#{symbol}#{timeframe}"


class PushReport(_Frozen):
    """One fan-out: topics looked up, frames sent, stale connections removed, other failed sends."""

    topics: int = 0
    frames: int = 0
    sent: int = 0
    gone: int = 0
    failed: int = 0


class CleanupReport(_Frozen):
    connections: int = 0
    expired: int = 0
    unreachable: int = 0
    orphans: int = 0  # topic memberships whose connection no longer exists
