"""WebSocket bookkeeping: live connections and who is subscribed to what.

``ws_connections`` holds one item per connection (its owner, its lifetime as a TTL, the topics it follows);
the ``by_owner`` index answers "which connections belong to this user" for the inbox in one query.
``ws_topics`` holds one item per topic (``quotes#SBIN``, ``candles#SBIN#1m``) with the set of subscribed
connection ids, so "who is subscribed to these topics" is one BatchGetItem for up to 100 changed topics, and a
topic nobody follows costs nothing but a miss in that batch.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel, TTLAttribute


class ConnectionsByOwner(GlobalSecondaryIndex["WsConnectionItem"]):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{user_id}", as the notifications table's key


class WsConnectionItem(BaseModel):
    base_name = "ws_connections"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "ws_connections"

    connection_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    owner = UnicodeAttribute()
    connected_ms = NumberAttribute()
    topics = UnicodeSetAttribute(null=True)
    expires_at = TTLAttribute()  # API Gateway closes a connection after 2 h at the latest
    by_owner = ConnectionsByOwner()


class WsTopicItem(BaseModel):
    base_name = "ws_topics"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "ws_topics"

    topic = UnicodeAttribute(hash_key=True)  # "quotes#SBIN" | "candles#SBIN#1m"
    connections = UnicodeSetAttribute(null=True)


WS_MODELS: tuple[type[BaseModel], ...] = (WsConnectionItem, WsTopicItem)
