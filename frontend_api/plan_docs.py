"""Each operation in the OpenAPI document says which plan feature it needs (``x-plan-feature`` and a line in its
description naming the plans that include it), read from the route's own ``Entitled`` dependencies, so the
document cannot drift from what the code enforces."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from mantra.billing.plans import load_catalogs

FEATURE_ATTR = "plan_feature"


def _features(dependant: Dependant) -> list[str]:
    out: list[str] = []
    for dep in dependant.dependencies:
        feature = getattr(dep.call, FEATURE_ATTR, None)
        if isinstance(feature, str):
            out.append(feature)
        out += _features(dep)
    return out


def _plans_with(feature: str) -> list[str]:
    names = []
    for plan in load_catalogs():
        if feature in plan.features and plan.name not in names:
            names.append(plan.name)
    return names


def route_features(routes: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """(method, path) -> the plan features the route requires (empty: any signed-in caller)."""
    found: dict[tuple[str, str], list[str]] = {}
    for context in iter_route_contexts(list(routes)):  # included routers expanded, their dependencies added
        route = context.route
        if isinstance(route, APIRoute):
            features = list(dict.fromkeys(_features(route.dependant)))
            for method in route.methods or ():
                found[(method.lower(), route.path_format)] = features
    return found


def document_plan_features(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        features = route_features(app.routes)
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                needed = features.get((method, path), [])
                operation["x-plan-feature"] = needed
                if needed:
                    lines = [f"`{f}` (plans: {', '.join(_plans_with(f)) or 'none yet'})" for f in needed]
                    note = "**Plan feature:** " + "; ".join(lines)
                else:
                    note = "**Plan feature:** none (every plan)"
                operation["description"] = (operation.get("description", "") + "\n\n" + note).strip()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
