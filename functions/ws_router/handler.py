"""API Gateway WebSocket routes -> the WebSocket sessions: $connect checks the token (as the REST API does),
$default answers one frame (the body goes back to the client), $disconnect forgets the connection."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mantra.errors import Unauthorized
from mantra.observability import powertools
from mantra.settings import get_settings
from mantra.ws.wiring import get_ws

from events.websocket import WsEvent

logger, tracer, metrics = powertools("ws_router")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ws = WsEvent.model_validate(event)
    route, connection_id = ws.request_context.route_key, ws.request_context.connection_id
    sessions = get_ws(get_settings()).sessions
    if route == "$connect":
        try:
            connection = sessions.connect(connection_id, (ws.query or {}).get("token"))
        except Unauthorized as exc:
            logger.info("websocket refused", extra={"reason": exc.message})
            return {"statusCode": 401, "body": exc.message}
        logger.info("websocket connected", extra={"tenant_id": connection.tenant_id})
        return {"statusCode": 200}
    if route == "$disconnect":
        sessions.disconnect(connection_id)
        return {"statusCode": 200}
    body = ws.body
    if body is not None and ws.is_base64_encoded:
        body = base64.b64decode(body).decode(errors="replace")
    return {"statusCode": 200, "body": sessions.message(connection_id, body)}
