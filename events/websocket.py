"""The API Gateway WebSocket event (Lambda proxy integration) as the ws_router function reads it.

Powertools' WebSocket models omit ``queryStringParameters`` (where ``$connect`` carries the token), so the few
fields used are declared here; everything else in the event is ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WsRequestContext(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    route_key: str = Field(alias="routeKey", examples=["$connect", "$default", "$disconnect"])
    event_type: Literal["CONNECT", "MESSAGE", "DISCONNECT"] = Field(alias="eventType")
    connection_id: str = Field(alias="connectionId", min_length=1)
    stage: str = ""


class WsEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    request_context: WsRequestContext = Field(alias="requestContext")
    query: dict[str, str] | None = Field(None, alias="queryStringParameters")
    body: str | None = None
    is_base64_encoded: bool = Field(False, alias="isBase64Encoded")
