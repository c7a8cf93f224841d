"""One place that maps errors to HTTP answers. No traceback ever reaches a client."""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mantra.errors import (
    Conflict,
    Forbidden,
    Invalid,
    LimitExceeded,
    MantraError,
    NotFound,
    RateLimited,
    Unauthorized,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontend_api.deps import via_api_key

log = logging.getLogger("frontend_api")

FIELD = re.compile(r"[a-z_][a-z0-9_.]*")
STATUS = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unauthorized: 401,
    Forbidden: 403,
    LimitExceeded: 403,
    RateLimited: 429,
}
# a 401 says how to authenticate: a bearer token on /api, an API key on /v1 (see frontend_api.deps)
KEY_CHALLENGE = 'ApiKey header="X-API-Key"'


def _headers(request: Request, exc: MantraError, status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": KEY_CHALLENGE if via_api_key(request) else "Bearer"}
    if isinstance(exc, RateLimited):
        return {
            "Retry-After": str(exc.retry_after_s),
            "X-RateLimit-Limit": str(exc.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(exc.reset_s),
        }
    return None


def _where(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(MantraError)
    async def domain_error(request: Request, exc: MantraError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        headers = _headers(request, exc, status)
        body: dict[str, object] = {"detail": exc.message}
        field, sep, reason = exc.message.partition(": ")
        if status == 422 and sep and FIELD.fullmatch(field):
            # domain checks say "field: reason", like schema errors: give them the same shape
            body["errors"] = [{"field": field, "message": reason, "type": "value_error"}]
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _where(tuple(e.get("loc", ()))),
                "message": e.get("msg", "invalid"),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": summary, "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", error_id)
        return JSONResponse({"detail": f"internal error (reference {error_id})"}, status_code=500)
