"""The local API Gateway: the FastAPI app plus every other HTTP-triggered function, called with the
HTTP API (2.0) event shape so handlers run exactly as they would behind API Gateway."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from frontend_api.app import create_app
from mantra.catalog import FUNCTIONS, FunctionSpec, HttpTrigger
from mantra.runtime.invoke import invoke
from mantra.runtime.lambda_events import http_event


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
    return app
