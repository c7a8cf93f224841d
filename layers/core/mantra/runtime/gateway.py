"""The local API Gateway: the FastAPI app plus every other HTTP-triggered function, called with the
HTTP API (2.0) event shape so handlers run exactly as they would behind API Gateway; and the WebSocket API on
``/ws`` with its Management API, calling the WebSocket function with API Gateway's WebSocket events."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from frontend_api.app import create_app
from mantra.catalog import FUNCTIONS, FunctionSpec, HttpTrigger, WebSocketTrigger
from mantra.runtime.invoke import invoke
from mantra.runtime.lambda_events import http_event, websocket_event


def _adapter(spec: FunctionSpec) -> Any:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        event = http_event(request.method, request.url.path, dict(request.headers), request.url.query, body)
        result: dict[str, Any] = await run_in_threadpool(invoke, spec, event)
        raw = result.get("body") or ""
        content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        return Response(
            content, status_code=int(result.get("statusCode", 200)), headers=result.get("headers")
        )

    endpoint.__name__ = spec.name
    return endpoint


def create_gateway() -> FastAPI:
    app = create_app()
    for spec in FUNCTIONS:
        if spec.name == "api":
            continue  # served directly as ASGI
        for trig in spec.triggers:
            if not isinstance(trig, HttpTrigger):
                continue
            for route in trig.routes:
                method, path = route.split(" ", 1)
                app.add_api_route(
                    path,
                    _adapter(spec),
                    methods=[method],
                    tags=["webhooks"],
                    summary=f"{spec.description} (signed; no bearer token)",
                )
    ws = _websocket_function()
    if ws is not None:
        LocalWebSockets(*ws).install(app)
    return app


class LocalWebSockets:
    """The local WebSocket API: live sockets by connection id, and the Management API on the same server
    (``POST|GET|DELETE /@connections/{id}``), so ``apigatewaymanagementapi`` pointed here works unchanged."""

    def __init__(self, spec: FunctionSpec, trigger: WebSocketTrigger) -> None:
        self.spec, self.trigger = spec, trigger
        self.sockets: dict[str, tuple[WebSocket, asyncio.Lock, int]] = {}

    def _event(self, route: str, kind: str, cid: str, ws: WebSocket, **kw: Any) -> dict[str, Any]:
        return websocket_event(
            route,
            kind,
            cid,
            connected_ms=self.sockets[cid][2] if cid in self.sockets else int(time.time() * 1000),
            domain=ws.url.netloc,
            source_ip=ws.client.host if ws.client else "127.0.0.1",
            **kw,
        )

    def _route(self, text: str) -> str:
        """API Gateway's route selection on ``$request.body.action``, falling back to ``$default``."""
        try:
            action = json.loads(text).get("action")
        except (ValueError, AttributeError):
            action = None
        return action if isinstance(action, str) and action in self.trigger.routes else "$default"

    async def serve(self, ws: WebSocket) -> None:
        cid = secrets.token_urlsafe(12)
        connect = self._event(
            "$connect", "CONNECT", cid, ws, headers=dict(ws.headers), query=dict(ws.query_params)
        )
        result = await run_in_threadpool(invoke, self.spec, connect) or {}
        status = int(result.get("statusCode", 200))
        if not 200 <= status < 300:
            try:
                await ws.send_denial_response(Response(result.get("body") or "", status_code=status))
            except RuntimeError:  # the server cannot send a denial response: a plain 403
                await ws.close(code=1008)
            return
        await ws.accept()
        self.sockets[cid] = (ws, asyncio.Lock(), int(time.time() * 1000))
        code: int | None = None
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    code = message.get("code")
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode(errors="replace")
                route = self._route(text)
                event = self._event(route, "MESSAGE", cid, ws, body=text)
                reply = await run_in_threadpool(invoke, self.spec, event) or {}
                if route in self.trigger.two_way and reply.get("body"):
                    await self.send(cid, str(reply["body"]))
        except WebSocketDisconnect as exc:
            code = exc.code
        finally:
            self.sockets.pop(cid, None)
            await run_in_threadpool(
                invoke, self.spec, self._event("$disconnect", "DISCONNECT", cid, ws, disconnect_code=code)
            )

    async def send(self, cid: str, text: str) -> bool:
        entry = self.sockets.get(cid)
        if entry is None:
            return False
        ws, lock, _ = entry
        try:
            async with lock:
                await ws.send_text(text)
            return True
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False

    def install(self, app: FastAPI) -> None:
        app.add_api_websocket_route("/ws", self.serve)

        def gone(cid: str) -> Response:
            return Response(
                json.dumps({"message": f"connection {cid} is gone"}),
                status_code=410,
                media_type="application/json",
                headers={"x-amzn-ErrorType": "GoneException"},
            )

        async def post_to_connection(connection_id: str, request: Request) -> Response:
            body = await request.body()
            if not await self.send(connection_id, body.decode(errors="replace")):
                return gone(connection_id)
            return Response(status_code=200)

        async def get_connection(connection_id: str) -> Response:
            entry = self.sockets.get(connection_id)
            if entry is None:
                return gone(connection_id)
            ws, _, connected_ms = entry
            info = {
                "connectedAt": datetime.fromtimestamp(connected_ms / 1000, tz=UTC).isoformat(),
                "identity": {"sourceIp": ws.client.host if ws.client else "127.0.0.1", "userAgent": ""},
                "lastActiveAt": datetime.now(UTC).isoformat(),
            }
            return Response(json.dumps(info), media_type="application/json")

        async def delete_connection(connection_id: str) -> Response:
            entry = self.sockets.get(connection_id)
            if entry is None:
                return gone(connection_id)
            with contextlib.suppress(RuntimeError, OSError):
                await entry[0].close(code=1000)
            return Response(status_code=204)

        path = "/@connections/{connection_id}"
        app.add_api_route(path, post_to_connection, methods=["POST"], include_in_schema=False)
        app.add_api_route(path, get_connection, methods=["GET"], include_in_schema=False)
        app.add_api_route(path, delete_connection, methods=["DELETE"], include_in_schema=False)


def _websocket_function() -> tuple[FunctionSpec, WebSocketTrigger] | None:
    for spec in FUNCTIONS:
        for trig in spec.triggers:
            if isinstance(trig, WebSocketTrigger):
                return spec, trig
    return None
