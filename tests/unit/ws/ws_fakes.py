"""In-memory fakes of the WebSocket ports (no sockets)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mantra.domain import Role, User
from mantra.errors import Unauthorized
from mantra.ws.models import WsConnection
from mantra.ws.ports import ConnectionGone


class FakeConnections:
    def __init__(self) -> None:
        self.items: dict[str, WsConnection] = {}
        self.members: dict[str, set[str]] = {}
        self.lookups: list[list[str]] = []

    def add(self, connection: WsConnection) -> None:
        self.items[connection.connection_id] = connection

    def get(self, connection_id: str) -> WsConnection | None:
        return self.items.get(connection_id)

    def subscribe(self, connection_id: str, topics: Iterable[str]) -> bool:
        conn = self.items.get(connection_id)
        if conn is None:
            return False
        wanted = set(topics)
        self.items[connection_id] = conn.model_copy(update={"topics": conn.topics | wanted})
        for t in wanted:
            self.members.setdefault(t, set()).add(connection_id)
        return True

    def unsubscribe(self, connection_id: str, topics: Iterable[str]) -> None:
        gone = set(topics)
        conn = self.items.get(connection_id)
        if conn is not None:
            self.items[connection_id] = conn.model_copy(update={"topics": conn.topics - gone})
        for t in gone:
            self.drop_members(t, [connection_id])

    def remove(self, connection_id: str, topics: Iterable[str] = ()) -> WsConnection | None:
        conn = self.items.pop(connection_id, None)
        for t in set(topics) | (conn.topics if conn else set()):
            self.drop_members(t, [connection_id])
        return conn

    def subscribers(self, topics: Iterable[str]) -> dict[str, frozenset[str]]:
        wanted = list(topics)
        self.lookups.append(wanted)
        return {t: frozenset(self.members[t]) for t in wanted if self.members.get(t)}

    def for_owner(self, owner: str) -> list[str]:
        return [c.connection_id for c in self.items.values() if c.owner == owner]

    def connections(self) -> Iterator[WsConnection]:
        yield from list(self.items.values())

    def topics(self) -> Iterator[tuple[str, frozenset[str]]]:
        for t, m in list(self.members.items()):
            yield t, frozenset(m)

    def drop_members(self, topic: str, connection_ids: Iterable[str]) -> None:
        members = self.members.get(topic, set())
        members -= set(connection_ids)
        if not members:
            self.members.pop(topic, None)


class FakeManagement:
    """Connections listed in ``live`` accept frames; anything else answers 410 Gone."""

    def __init__(self, live: Iterable[str] = ()) -> None:
        self.live = set(live)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.closed: list[str] = []
        self.broken: set[str] = set()

    def post(self, connection_id: str, data: bytes) -> None:
        import json

        if connection_id in self.broken:
            raise OSError("connection reset")
        if connection_id not in self.live:
            raise ConnectionGone(connection_id)
        self.sent.append((connection_id, json.loads(data)))

    def alive(self, connection_id: str) -> bool:
        return connection_id in self.live

    def close(self, connection_id: str) -> None:
        if connection_id not in self.live:
            raise ConnectionGone(connection_id)
        self.live.discard(connection_id)
        self.closed.append(connection_id)


class FakeTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens  # token -> sub

    def validate(self, token: str) -> dict[str, Any]:
        if token not in self.tokens:
            raise Unauthorized("invalid token: signature verification failed")
        return {"sub": self.tokens[token]}


class FakeUsers:
    def __init__(self, *users: User) -> None:
        self.users = {u.user_id: u for u in users}

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)


class FakeInstruments:
    def __init__(self, *symbols: str) -> None:
        self.symbols = set(symbols)

    def get(self, symbol: str) -> object | None:
        return object() if symbol in self.symbols else None


def user(user_id: str = "usr_pro", tenant_id: str = "tnt_pro") -> User:
    return User(
        user_id=user_id,
        email=f"{user_id}@demo.trademantra.in",
        name=user_id,
        tenant_id=tenant_id,
        roles=frozenset({Role.TRADER}),
        plan_id="pro",
    )
