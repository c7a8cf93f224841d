"""Every route of the app refuses a caller without credentials, except a short, named list of public ones.

The walk goes over ``app.routes`` (not the OpenAPI document, which can hide routes), on /api and on its /v1
alias, with a container that fails on any use: an unauthenticated request must be refused before it reaches a
service. A new route without authentication fails here until it is added to PUBLIC on purpose.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from access_fakes import Untouched
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from mantra.settings import Settings
from starlette.routing import Mount, Route

from frontend_api import docs
from frontend_api.app import create_app

PUBLIC = {
    "/api/health",
    "/auth/token",
    "/auth/.well-known/jwks.json",
    # opening an account and getting back into one: before there is anyone to authenticate
    "/auth/signup",
    "/auth/confirm",
    "/auth/resend",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/refresh",  # the refresh token is the credential
    "/auth/logout",
}
SIGNED_WEBHOOKS = "/webhooks/"  # signed by the sender (Stripe, ...), verified on the raw body
PARAM = re.compile(r"\{[^}]+\}")


def docs_paths(app: FastAPI) -> set[str]:
    """The OpenAPI document, the docs pages and the front door (frontend_api.docs): public by design."""
    return {p for p in (app.openapi_url,) if p} | set(docs.PUBLIC_PATHS)


def routes(app: FastAPI) -> list[RouteContext]:
    """Every route, with included routers expanded (``app.routes`` lists an included router as one entry)."""
    return list(iter_route_contexts(app.routes))


def unauthenticated(app: FastAPI) -> list[str]:
    """Each (method, path) of ``app`` that answers a caller without credentials with anything but 401."""
    client = TestClient(app, raise_server_exceptions=False)
    failures = []
    for route in routes(app):
        original = route.original_route
        if (
            isinstance(original, Route)
            and not isinstance(original, APIRoute)
            and route.path in docs_paths(app)
        ):
            continue
        if isinstance(original, Mount) and original.path == docs.STATIC:
            continue  # the docs pages' scripts and styles (static files)
        if not isinstance(original, APIRoute) or route.path is None:
            failures.append(f"{type(original).__name__} {route.path}: not an API route; check it by hand")
            continue
        if route.path in PUBLIC or route.path in docs.PUBLIC_PATHS or route.path.startswith(SIGNED_WEBHOOKS):
            continue
        url = PARAM.sub("x", route.path)
        urls = [url] + (["/v1" + url.removeprefix("/api")] if url.startswith("/api/") else [])
        for method in sorted(route.methods or ()):
            for u in urls:
                resp = client.request(method, u)
                if resp.status_code != 401:
                    failures.append(f"{method} {u}: {resp.status_code} {resp.text[:200]}")
    return failures


@pytest.fixture
def app(access_key_file) -> FastAPI:
    settings = Settings(
        dev_issuer_key_file=access_key_file,
        auth_issuer="https://issuer.test/auth",
        auth_client_id="client-test",
    )
    return create_app(settings, Untouched("container"))  # type: ignore[arg-type]


def test_every_route_but_health_sign_in_docs_and_signed_webhooks_answers_401_without_credentials(app) -> None:
    # Given every route of the app / When called without credentials on /api and /v1 / Then each answers 401
    assert unauthenticated(app) == []
    # And the walk covered the routes that matter (not a vacuous pass)
    paths = {r.path for r in routes(app) if isinstance(r.original_route, APIRoute)}
    assert {
        "/api/me",
        "/api/keys",
        "/api/keys/{key_id}",
        "/api/option-chain/{symbol}",
        "/api/webhooks",
    } <= paths
    assert len(paths - PUBLIC) >= 20
    assert paths >= PUBLIC


def test_a_new_route_without_authentication_fails_the_walk(app) -> None:
    # Given a route someone added without the CurrentUser dependency
    app.add_api_route("/api/leaky", lambda: {"secret": "data"}, methods=["GET"])
    # When the walk runs / Then it names the route, on both paths
    failures = unauthenticated(app)
    assert [f.split(":")[0] for f in failures] == ["GET /api/leaky", "GET /v1/leaky"]


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_the_app_refuses_unsigned_and_symmetric_tokens(app, alg: str) -> None:
    # Given a forged token claiming to be a valid access token for a user (the validator's own tests cover
    # the cryptography; this proves the app's dependency goes through it, before any service is touched)
    now = int(time.time())
    claims = {
        "sub": "usr_a",
        "iss": "https://issuer.test/auth",
        "client_id": "client-test",
        "token_use": "access",
        "iat": now,
        "exp": now + 600,
    }
    kid = app.state.dev_issuer.kid
    token = f"{_b64({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}." + (
        "" if alg == "none" else "c2ln"
    )
    # When it is sent as a bearer token / Then it is refused for its algorithm
    resp = TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.json()["detail"] == f"token algorithm '{alg}' is not accepted"


def test_every_operation_says_which_plan_feature_it_needs(app) -> None:
    doc = app.openapi()
    ops = [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]
    assert len(ops) > 40
    for method, path, op in ops:
        assert "x-plan-feature" in op, (method, path)
        assert "**Plan feature:**" in op["description"], (method, path)
    by = {(m, p): op for m, p, op in ops}
    alerts = by[("post", "/api/alerts")]
    assert alerts["x-plan-feature"] == ["alerts"] and "Starter" in alerts["description"]
    keys = by[("post", "/api/keys")]
    assert keys["x-plan-feature"] == ["api_access"] and "Institutional" in keys["description"]
    assert "Starter" not in keys["description"].split("**Plan feature:**")[1]
    assert by[("get", "/api/me")]["x-plan-feature"] == []


def test_every_schema_has_an_example_that_is_valid_against_it(app) -> None:
    import jsonschema

    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    assert len(schemas) > 50
    resolver_doc = {"components": doc["components"]}
    for name, schema in schemas.items():
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        assert examples, name
        for example in examples:
            validator = jsonschema.Draft202012Validator(
                {**schema, "components": resolver_doc["components"]},
                format_checker=jsonschema.FormatChecker(),
            )
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, (name, example, errors[:3])
    me = schemas["MeOut"]["examples"][0]
    assert me["email"] == "pro@demo.trademantra.in" and me["plan_id"] == "pro"
