"""The FastAPI app: routers per domain, auth as a dependency, errors mapped in one place."""

from __future__ import annotations

from fastapi import FastAPI
from mantra.auth.tokens import DevIssuer, JwksUrlKeys, KeySource, StaticKeys, TokenValidator
from mantra.container import Container, get_container
from mantra.settings import Settings, get_settings

from frontend_api import docs, errors, examples, plan_docs
from frontend_api.deps import ApiKeyPaths
from frontend_api.routers import (
    alerts,
    apikeys,
    auth,
    backtests,
    billing,
    finance,
    health,
    market,
    notifications,
    options,
    preferences,
    scans,
    universes,
    watchlists,
    webhooks,
)

DESCRIPTION = """
Trade Mantra's REST API. Every route needs a bearer token except `/api/health`, the `/auth/...` routes that open an account (`POST /auth/signup`, then `/auth/confirm` with the e-mailed code) or sign in, and the signed webhooks.
Programmatic clients on plans with API access call the same routes under `/v1/...` with `X-API-Key: <key>`
(create one with `POST /api/keys`). Every authenticated answer carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds); over the plan's hourly limit: 429 with
`Retry-After`.

**Sign in locally:** press *Authorize* and use a seeded user, e.g. `pro@demo.trademantra.in` / `mantra-demo`
(the README lists them all). Prices are rupees as exact decimals; times are UTC (sessions are IST).
"""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Trade Mantra API",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # served by frontend_api.docs from a pinned bundle, not a CDN
        redoc_url=None,
    )
    app.state.container = container or get_container(settings)
    dev: DevIssuer | None = None
    keys: KeySource
    if settings.dev_issuer_key_file is not None:
        dev = DevIssuer.from_file(
            settings.dev_issuer_key_file, settings.auth_issuer, settings.auth_client_id, settings.token_ttl_s
        )
        keys = StaticKeys(dev.jwks)
    else:
        keys = JwksUrlKeys(settings.jwks_url)
    app.state.dev_issuer = dev
    app.state.validator = TokenValidator(keys, settings.auth_issuer, settings.auth_client_id)
    errors.install(app)
    docs.install(app, {"persistAuthorization": True})
    for module in (health, auth, market, alerts, notifications, backtests, webhooks, preferences, scans):
        app.include_router(module.router)
    app.include_router(options.router)
    app.include_router(apikeys.router)
    app.include_router(billing.router)
    app.include_router(finance.router)
    app.include_router(universes.router)
    app.include_router(watchlists.router)
    plan_docs.document_plan_features(app)  # after every router: it reads their dependencies
    examples.add_examples(app)
    app.add_middleware(ApiKeyPaths)  # /v1/... = /api/... with an API key; rate-limit headers
    return app
