"""The WebSocket services: sessions (connect, frames, disconnect), the push fan-out and the stale sweep.

Every integration is a parameter (repository, Management API, token validator, clock), so unit tests run them
on fakes with sockets off.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from mantra.clock import Clock
from mantra.domain import Candle, Notification, Quote, User
from mantra.errors import Unauthorized
from mantra.ws import protocol
from mantra.ws.models import CleanupReport, PushReport, WsConnection, candle_topic, owner_key, quote_topic
from mantra.ws.ports import ConnectionGone, ConnectionRepository, ManagementApi

log = logging.getLogger("mantra.ws")


class TokenCheck(Protocol):
    def validate(self, token: str) -> dict[str, Any]: ...


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...


class Instruments(Protocol):
    def get(self, symbol: str) -> Any: ...


class WsSessions:
    """``$connect`` checks the access token exactly as the REST API does; ``$default`` handles one frame and
    returns the reply frame; ``$disconnect`` forgets the connection and its subscriptions."""

    def __init__(
        self,
        connections: ConnectionRepository,
        tokens: TokenCheck,
        users: Users,
        instruments: Instruments,
        clock: Clock,
        lifetime_s: int = 7200,
        max_topics: int = 100,
    ) -> None:
        self._connections, self._tokens, self._users, self._instruments = (
            connections,
            tokens,
            users,
            instruments,
        )
        self._clock, self._lifetime_ms, self._max_topics = clock, lifetime_s * 1000, max_topics

    def connect(self, connection_id: str, token: str | None) -> WsConnection:
        if not token:
            raise Unauthorized("connect with ?token=<access token> (POST /auth/token issues one)")
        claims = self._tokens.validate(token)
        user = self._users.get(str(claims["sub"]))
        if user is None:
            raise Unauthorized("the token's user no longer exists")
        now = self._clock.now_ms()
        connection = WsConnection(
            connection_id=connection_id,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            connected_ms=now,
            expires_ms=now + self._lifetime_ms,
        )
        self._connections.add(connection)
        return connection

    def message(self, connection_id: str, body: str | None) -> str:
        """The reply to one client frame; a bad frame gets an error frame, never a closed socket."""
        try:
            frame = protocol.parse_frame(body)
        except protocol.ProtocolError as exc:
            return protocol.error_frame(exc.message)
        if isinstance(frame, protocol.Ping):
            return protocol.pong_frame()
        topics = frame.topics()
        if isinstance(frame, protocol.Unsubscribe):
            self._connections.unsubscribe(connection_id, topics)
            return protocol.ack_frame("unsubscribed", frame)
        connection = self._connections.get(connection_id)
        if connection is None:
            return protocol.error_frame("this connection is no longer registered; reconnect")
        unknown = [s for s in topics.values() if self._instruments.get(s) is None]
        if unknown:
            return protocol.error_frame(f"unknown symbol(s): {', '.join(unknown)}")
        if len(connection.topics | set(topics)) > self._max_topics:
            return protocol.error_frame(
                f"at most {self._max_topics} subscriptions per connection; unsubscribe from some first"
            )
        if not self._connections.subscribe(connection_id, topics):
            return protocol.error_frame("this connection is no longer registered; reconnect")
        return protocol.ack_frame("subscribed", frame)

    def disconnect(self, connection_id: str) -> None:
        self._connections.remove(connection_id)


class WsFanout:
    """Changed quotes, candles and inbox items -> frames to the connections that follow them.

    A batch costs one BatchGetItem per 100 distinct changed topics (nothing more when nobody is subscribed)
    and one index query per notified user; only the newest state of each quote and candle in the batch is
    sent. A 410 from the Management API removes the stale connection; other send failures are counted and
    logged, never retried (a newer frame follows within a tick).
    """

    def __init__(
        self, connections: ConnectionRepository, management: ManagementApi, workers: int = 8
    ) -> None:
        self._connections, self._management = connections, management
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ws-push")

    def push(
        self,
        quotes: Iterable[Quote] = (),
        candles: Iterable[Candle] = (),
        notifications: Iterable[Notification] = (),
    ) -> PushReport:
        frames_by_topic: dict[str, str] = {}
        latest_quotes: dict[str, Quote] = {}
        for q in quotes:
            seen = latest_quotes.get(q.symbol)
            if seen is None or (q.seq, q.tick_ts_ms) >= (seen.seq, seen.tick_ts_ms):
                latest_quotes[q.symbol] = q
        for q in latest_quotes.values():
            frames_by_topic[quote_topic(q.symbol)] = protocol.quote_frame(q)
        latest_candles: dict[tuple[str, str, int], Candle] = {}
        for c in candles:
            key = (c.symbol, c.timeframe, c.start_ms)
            seen_c = latest_candles.get(key)
            if seen_c is None or (c.ticks, c.last_tick_ms) >= (seen_c.ticks, seen_c.last_tick_ms):
                latest_candles[key] = c
        candle_frames: dict[str, list[str]] = defaultdict(list)
        for c in sorted(latest_candles.values(), key=lambda c: c.start_ms):
            candle_frames[candle_topic(c.symbol, c.timeframe)].append(protocol.candle_frame(c))

        outbox: dict[str, list[str]] = defaultdict(list)  # connection id -> frames, in order
        found_in: dict[str, list[str]] = defaultdict(list)  # connection id -> the topics it was found in
        topics = [*frames_by_topic, *candle_frames]
        if topics:
            for topic, members in self._connections.subscribers(topics).items():
                frames = (
                    [frames_by_topic[topic]] if topic in frames_by_topic else candle_frames.get(topic, [])
                )
                for cid in members:
                    outbox[cid].extend(frames)
                    found_in[cid].append(topic)
        by_owner: dict[str, list[Notification]] = defaultdict(list)
        for n in notifications:
            by_owner[owner_key(n.tenant_id, n.user_id)].append(n)
        for owner, items in by_owner.items():
            for cid in self._connections.for_owner(owner):
                outbox[cid].extend(protocol.notification_frame(n) for n in items)
        counts = self._send_all(outbox, found_in)
        return PushReport(topics=len(topics), frames=sum(len(f) for f in outbox.values()), **counts)

    def _send_all(self, outbox: Mapping[str, list[str]], found_in: Mapping[str, list[str]]) -> dict[str, int]:
        counts = {"sent": 0, "gone": 0, "failed": 0}
        if len(outbox) <= 1:
            results = [self._send(cid, frames, found_in.get(cid, [])) for cid, frames in outbox.items()]
        else:
            ids = list(outbox)
            results = list(
                self._pool.map(lambda cid: self._send(cid, outbox[cid], found_in.get(cid, [])), ids)
            )
        for r in results:
            for k, v in r.items():
                counts[k] += v
        return counts

    def _send(self, connection_id: str, frames: list[str], topics: list[str]) -> dict[str, int]:
        sent = failed = 0
        for frame in frames:
            try:
                self._management.post(connection_id, frame.encode())
                sent += 1
            except ConnectionGone:
                self._connections.remove(connection_id, topics)
                return {"sent": sent, "gone": 1, "failed": failed}
            except Exception:
                log.warning("push to %s failed", connection_id, exc_info=True)
                failed += 1
        return {"sent": sent, "gone": 0, "failed": failed}


class WsCleanup:
    """Every few minutes: close connections past their lifetime, forget those the Management API no longer
    knows, and drop topic memberships whose connection is gone (e.g. removed by the table's TTL)."""

    def __init__(self, connections: ConnectionRepository, management: ManagementApi, clock: Clock) -> None:
        self._connections, self._management, self._clock = connections, management, clock

    def run(self) -> CleanupReport:
        now = self._clock.now_ms()
        live: set[str] = set()
        seen = expired = unreachable = orphans = 0
        for conn in list(self._connections.connections()):
            seen += 1
            if conn.expires_ms <= now:
                with contextlib.suppress(ConnectionGone):
                    self._management.close(conn.connection_id)
                self._connections.remove(conn.connection_id)
                expired += 1
            elif not self._management.alive(conn.connection_id):
                self._connections.remove(conn.connection_id)
                unreachable += 1
            else:
                live.add(conn.connection_id)
        for topic, members in list(self._connections.topics()):
            # a connection added since the sweep began is in the table: check before dropping it
            stale = [cid for cid in members - live if self._connections.get(cid) is None]
            if stale or not members:
                self._connections.drop_members(topic, stale)  # an emptied topic item is deleted
                orphans += len(stale)
        return CleanupReport(connections=seen, expired=expired, unreachable=unreachable, orphans=orphans)
