"""WebSocket connections and topic memberships in DynamoDB, and the API Gateway Management API client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.exceptions import DeleteError

from mantra.domain import Candle, Notification, Quote
from mantra.settings import Settings
from mantra.store.models import CandleItem, NotificationItem, QuoteItem
from mantra.store.repositories import (
    DynamoCandleRepository,
    DynamoNotificationRepository,
    DynamoQuoteRepository,
    _conditional_failed,
    update_if,
)
from mantra.store.ws_models import WsConnectionItem, WsTopicItem
from mantra.ws.models import WsConnection, owner_key
from mantra.ws.ports import ConnectionGone


class DynamoConnectionRepository:
    def add(self, connection: WsConnection) -> None:
        item = WsConnectionItem(
            connection_id=connection.connection_id,
            tenant_id=connection.tenant_id,
            user_id=connection.user_id,
            owner=owner_key(connection.tenant_id, connection.user_id),
            connected_ms=connection.connected_ms,
            topics=set(connection.topics) or None,
        )
        item.expires_at = datetime.fromtimestamp(connection.expires_ms / 1000, tz=UTC)
        item.save()

    def get(self, connection_id: str) -> WsConnection | None:
        try:
            return _connection(WsConnectionItem.get(connection_id, consistent_read=True))
        except WsConnectionItem.DoesNotExist:
            return None

    def subscribe(self, connection_id: str, topics: Iterable[str]) -> bool:
        wanted = set(topics)
        if not wanted:
            return True
        if not update_if(
            WsConnectionItem(connection_id=connection_id),
            [WsConnectionItem.topics.add(wanted)],
            WsConnectionItem.connection_id.exists(),
        ):
            return False
        for topic in sorted(wanted):
            WsTopicItem(topic=topic).update(actions=[WsTopicItem.connections.add({connection_id})])
        return True

    def unsubscribe(self, connection_id: str, topics: Iterable[str]) -> None:
        gone = set(topics)
        if not gone:
            return
        update_if(  # a connection already gone has no topics to drop
            WsConnectionItem(connection_id=connection_id),
            [WsConnectionItem.topics.delete(gone)],
            WsConnectionItem.connection_id.exists(),
        )
        for topic in sorted(gone):
            self.drop_members(topic, [connection_id])

    def remove(self, connection_id: str, topics: Iterable[str] = ()) -> WsConnection | None:
        connection = self.get(connection_id)
        try:
            WsConnectionItem(connection_id=connection_id).delete()
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise
        for topic in sorted(set(topics) | (connection.topics if connection else set())):
            self.drop_members(topic, [connection_id])
        return connection

    def subscribers(self, topics: Iterable[str]) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        for item in WsTopicItem.batch_get(sorted(set(topics))):  # 100 keys per request, unprocessed retried
            if item.connections:
                out[item.topic] = frozenset(item.connections)
        return out

    def for_owner(self, owner: str) -> list[str]:
        return [i.connection_id for i in WsConnectionItem.by_owner.query(owner)]

    def connections(self) -> Iterator[WsConnection]:
        for item in WsConnectionItem.scan():
            yield _connection(item)

    def topics(self) -> Iterator[tuple[str, frozenset[str]]]:
        for item in WsTopicItem.scan():
            yield item.topic, frozenset(item.connections or ())

    def drop_members(self, topic: str, connection_ids: Iterable[str]) -> None:
        ids = set(connection_ids)
        if ids:
            WsTopicItem(topic=topic).update(actions=[WsTopicItem.connections.delete(ids)])
        try:  # an empty topic is deleted; one that gained a member meanwhile stays
            WsTopicItem(topic=topic).delete(condition=WsTopicItem.connections.does_not_exist())
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise


def _connection(item: WsConnectionItem) -> WsConnection:
    expires = item.expires_at
    return WsConnection(
        connection_id=item.connection_id,
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        connected_ms=int(item.connected_ms),
        expires_ms=int(expires.timestamp() * 1000) if expires else int(item.connected_ms),
        topics=frozenset(item.topics or ()),
    )


_MANAGEMENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=1,
    read_timeout=3,
    max_pool_connections=16,
)


class ApiGatewayManagement:
    """``apigatewaymanagementapi`` on the WebSocket stage's endpoint (``settings.ws_endpoint``): in the cloud
    ``https://{api}.execute-api.{region}.amazonaws.com/{stage}``, locally the local gateway, which serves the
    same ``/@connections/{id}`` paths."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        if client is None:
            if not settings.ws_endpoint:
                raise RuntimeError("MANTRA_WS_ENDPOINT is not set: the WebSocket API's management endpoint")
            client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=settings.ws_endpoint,
                region_name=settings.region,
                config=_MANAGEMENT_CONFIG,
            )
        self._client = client

    def _gone(self, exc: Exception) -> bool:
        return isinstance(exc, self._client.exceptions.GoneException)

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except Exception as exc:
            if self._gone(exc):
                raise ConnectionGone(connection_id) from None
            raise

    def alive(self, connection_id: str) -> bool:
        try:
            self._client.get_connection(ConnectionId=connection_id)
            return True
        except Exception as exc:
            if self._gone(exc):
                return False
            raise

    def close(self, connection_id: str) -> None:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except Exception as exc:
            if self._gone(exc):
                raise ConnectionGone(connection_id) from None
            raise


class StreamImages:
    """A quotes, candles or notifications stream record -> the domain object it carries (``None``: nothing
    to push: a deletion, or an inbox item that was only marked read). Mapped through the table's own model
    and repository, so a stream image reads exactly like a stored item."""

    def __init__(self, settings: Settings) -> None:
        self._kinds = {settings.name(base): base for base in ("quotes", "candles", "notifications")}

    def parse(
        self, source_arn: str, event_name: str, change: dict[str, Any]
    ) -> Quote | Candle | Notification | None:
        table = source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
        kind = self._kinds.get(table)
        if kind is None:
            raise ValueError(f"no WebSocket channel follows table {table!r}")
        image = change.get("NewImage")
        if event_name == "REMOVE" or not image:
            return None
        if kind == "quotes":
            return DynamoQuoteRepository._to_domain(QuoteItem.from_raw_data(image))
        if kind == "candles":
            return DynamoCandleRepository._to_domain(CandleItem.from_raw_data(image))
        if event_name != "INSERT":
            return None  # read flags and delivery outcomes change an inbox item; only new ones are pushed
        return DynamoNotificationRepository._to_domain(NotificationItem.from_raw_data(image))
