"""One place that maps errors to HTTP answers, and documents them. No traceback ever reaches a client.

Every error answer has one shape, ``ErrorOut``: ``detail`` (a sentence for people) and ``errors`` (one entry per
field at fault; empty when no single field is). It is documented once, in the OpenAPI components, and
``document_errors`` lists on every operation each 4xx status it can answer:

- 401, 403 and 429 on every operation that needs a caller (a bearer token, or an API key on ``/v1``);
- 404 on every operation with a path parameter (the resource is not there, or not yours);
- 422 on every operation that takes parameters or a body, and 400 (a body that cannot be read) on each that
  takes a body;
- and whatever a route declares with ``responses=answers(...)`` (e.g. 409, or a 404 without a path parameter).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

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
    Unavailable,
)
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path, get_route_path

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
    Unavailable: 503,
}
# a 401 says how to authenticate: a bearer token on /api, an API key on /v1 (see frontend_api.deps)
KEY_CHALLENGE = 'ApiKey header="X-API-Key"'


class FieldError(BaseModel):
    """One field at fault."""

    field: str = Field(
        description="where: a body field (`price`, `channels.0`), or `query.<name>`, `path.<name>`, "
        "`header.<name>`; `body` for the body as a whole",
        examples=["price"],
    )
    message: str = Field(examples=["Input should be greater than 0"])
    type: str = Field(
        description="a machine-readable kind, e.g. `missing`, `value_error`", examples=["greater_than"]
    )


class ErrorOut(BaseModel):
    """Every error answer (4xx, 5xx) has this shape."""

    detail: str = Field(
        description="what went wrong and, where it helps, what to do", examples=["price: required for above"]
    )
    errors: list[FieldError] = Field(
        default_factory=list, description="one entry per field at fault (422); empty when no single field is"
    )


RATE_HEADERS: dict[str, dict[str, Any]] = {
    "Retry-After": {"description": "seconds until the next call is accepted", "schema": {"type": "integer"}},
    "X-RateLimit-Limit": {"description": "calls per hour on the plan", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "calls left in this hour: 0", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "when the hour ends (epoch seconds)", "schema": {"type": "integer"}},
}
ANSWERS: dict[int, dict[str, Any]] = {
    400: {"description": "The body cannot be read (not JSON, or not the form the operation takes)."},
    401: {
        "description": "Not signed in: no bearer token, or an expired or invalid one (on `/v1`: no valid API "
        "key). `WWW-Authenticate` says which.",
        "headers": {
            "WWW-Authenticate": {
                "description": "`Bearer`, or the API-key header on /v1",
                "schema": {"type": "string"},
            }
        },
    },
    403: {
        "description": "Signed in but not allowed: the plan lacks the feature or a plan limit is reached (the "
        "answer names the plan that unlocks it), a role is missing, or an API key may not do this."
    },
    404: {"description": "Not found, or not yours."},
    409: {"description": "Conflicts with the current state (the answer says which)."},
    422: {"description": "Invalid request: `errors` names each field at fault."},
    429: {
        "description": "Over the plan's hourly call limit: retry after `Retry-After` seconds.",
        "headers": RATE_HEADERS,
    },
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer these statuses beyond the ones ``document_errors`` derives."""
    return {status: {"model": ErrorOut, "description": ANSWERS[status]["description"]} for status in statuses}


def error_body(detail: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return ErrorOut(detail=detail, errors=errors or []).model_dump(mode="json")


def _headers(request: Request, exc: MantraError, status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": KEY_CHALLENGE if via_api_key(request) else "Bearer"}
    if isinstance(exc, Unavailable):
        return {"Retry-After": str(exc.retry_after_s)}
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


def _allowed_methods(request: Request, first_route: str) -> str:
    """Every method the path answers, by the OpenAPI document (one route per method: Starlette names only the
    first route's)."""
    route_path = get_route_path(request.scope)
    methods = {m.strip() for m in first_route.split(",") if m.strip()}
    for path, item in request.app.openapi().get("paths", {}).items():
        if compile_path(path)[0].match(route_path):
            methods |= {m.upper() for m in item}
    return ", ".join(sorted(methods))


def _json_position(doc: str, pos: int) -> tuple[int, int]:
    """1-based line and column of character ``pos`` in ``doc``, as editors count them."""
    line = doc.count("\n", 0, pos) + 1
    return line, pos - (doc.rfind("\n", 0, pos) + 1) + 1


def _unreadable_body(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """A body that is not JSON (422 saying where it broke, line and column) or not sent as JSON (415 naming
    the content type expected), instead of a list of "field required"."""
    for e in exc.errors():
        if e.get("type") == "json_invalid":
            loc = tuple(e.get("loc", ()))
            pos = int(loc[1]) if len(loc) > 1 and isinstance(loc[1], int) else 0
            doc = exc.body if isinstance(exc.body, str) else ""
            line, col = _json_position(doc, pos)
            reason = str((e.get("ctx") or {}).get("error", "not valid JSON"))
            detail = f"body: not valid JSON at line {line}, column {col}: {reason}"
            error = FieldError(field="body", message=detail.removeprefix("body: "), type="json_invalid")
            return JSONResponse(error_body(detail, [error]), status_code=422)
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body_errors = [e for e in exc.errors() if tuple(e.get("loc", ())) == ("body",)]
    if body_errors and sent != "application/json" and isinstance(body_errors[0].get("input"), bytes | str):
        detail = f"Content-Type: expected application/json, got {sent or 'none'}"
        error = FieldError(field="Content-Type", message=detail.partition(": ")[2], type="content_type")
        return JSONResponse(error_body(detail, [error]), status_code=415)
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(MantraError)
    async def domain_error(request: Request, exc: MantraError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        headers = _headers(request, exc, status)
        errors: list[FieldError] = []
        field, sep, reason = exc.message.partition(": ")
        if status == 422 and sep and FIELD.fullmatch(field):
            # domain checks say "field: reason", like schema errors: give them the same shape
            errors.append(FieldError(field=field, message=reason, type="value_error"))
        return JSONResponse(error_body(exc.message, errors), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = _unreadable_body(request, exc)
        if unreadable is not None:
            return unreadable
        errors = [
            FieldError(
                field=_where(tuple(e.get("loc", ()))),
                message=str(e.get("msg", "invalid")),
                type=str(e.get("type", "value_error")),
            )
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return JSONResponse(error_body(summary, errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request, headers.get("Allow", ""))
        return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", error_id)
        return JSONResponse(error_body(f"internal error (reference {error_id})"), status_code=500)

    document_errors(app)


def _statuses(operation: dict[str, Any]) -> set[int]:
    declared = {
        int(code) for code in operation.get("responses", {}) if code.isdigit() and 400 <= int(code) < 500
    }
    parameters = operation.get("parameters", [])
    derived: set[int] = set()
    if operation.get("security"):
        derived |= {401, 403, 429}
    if any(p.get("in") == "path" for p in parameters):
        derived.add(404)
    if parameters or "requestBody" in operation:
        derived.add(422)
    if "requestBody" in operation:
        derived.add(400)
    return declared | derived


def _error_components(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 shape, which we never send
        components.pop(name, None)
    own = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(own.pop("$defs", {}))
    components["ErrorOut"] = own


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document list every 4xx each operation can answer, all with ``ErrorOut``."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status in sorted(_statuses(operation)):
                    standard = ANSWERS.get(status, {"description": "Refused (the answer says why)."})
                    description = responses.get(str(status), {}).get("description")
                    if not description or description in ("Additional Response", "Validation Error"):
                        description = standard["description"]
                    responses[str(status)] = {
                        **standard,
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    }
        _error_components(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
