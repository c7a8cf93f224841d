"""The API's front door and its documentation, served by the platform itself: `/docs` (Swagger UI) and `/redoc`
load their scripts and styles from a pinned package (fastapi-offline's bundle), never from a CDN, so they work
with no network; `/` says what this is and where to go."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC = "/static/docs"
PUBLIC_PATHS = frozenset({"/", "/docs", "/docs/oauth2-redirect", "/redoc"})  # and the assets under STATIC
LINKS = {
    "docs": "/docs",
    "redoc": "/redoc",
    "openapi": "/openapi.json",
    "health": "/api/health",
    "sign_in": "/auth/token",
    "sign_up": "/auth/signup",
}


def install(app: FastAPI, swagger_ui_parameters: dict[str, object]) -> None:
    """Routes for the docs (the app is built with ``docs_url=None, redoc_url=None``) and the front door."""
    app.mount(STATIC, StaticFiles(directory=ASSETS), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - docs",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters=swagger_ui_parameters,
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - reference",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/", include_in_schema=False)
    def front_door(request: Request) -> Response:
        about = {
            "name": title,
            "about": "Trading intelligence for Indian markets: real-time NSE/BSE data, scanners, alerts, backtests "
            "with Indian costs and option-chain analytics. Every /api route needs a bearer token from /auth/token "
            "(or an API key under /v1).",
            "links": LINKS,
        }
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse(about)
        items = "".join(
            f'<li><a href="{href}">{name.replace("_", " ")}</a> <code>{href}</code></li>'
            for name, href in LINKS.items()
        )
        return HTMLResponse(
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f'<link rel=icon href="{STATIC}/favicon.png"></head>'
            f"<body style='font-family:system-ui;max-width:46rem;margin:3rem auto;line-height:1.5'>"
            f"<h1>{title}</h1><p>{about['about']}</p><ul>{items}</ul></body></html>"
        )
