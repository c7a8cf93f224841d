"""An example for every schema in the OpenAPI document.

A schema written with its own example keeps it. Any other is composed from its fields: each field's own example
or default, an enum's first value, the example of the schema it refers to, else a value typical of the field's
name in this API (a symbol, an e-mail, an id, epoch milliseconds, rupees as exact decimals). The unit tests check
every example against its schema, so a composed example is always a valid instance."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

AT_MS = 1_764_831_600_000  # 2025-12-04 12:30 IST: an instant inside a session
BY_NAME: tuple[tuple[str, Any], ...] = (
    (r"^(symbol|underlying)$", "RELIANCE"),
    (r"email", "pro@demo.trademantra.in"),
    (r"^user_id$", "usr_pro"),
    (r"^tenant_id$", "tnt_pro"),
    (r"^plan_id$|^plan$", "pro"),
    (r"^name$", "Pranav Pro"),
    (r"_ms$|^ts$", AT_MS),
    (r"_s$", AT_MS // 1000),
    (r"^(month|period)$", "2025-12"),
    (r"(^|_)date$|^expiry$|^day$|^session$", "2025-12-30"),
    (r"_at$", "2025-12-04T07:00:00Z"),
    (r"currency", "INR"),
    (r"^status$", "active"),
    (r"^(timeframe|tf)$", "1d"),
    (r"expression", "rsi(14) < 30"),
    (r"url$", "https://example.in/hook"),
    (r"_id$|^id$", "id_3f2a9c01"),
    (r"count|^n$|^limit$|quantity|qty|volume|_oi$|^oi$|^bars$|^ticks$", 10),
    (r"pct|ratio|rate|_bps$", "1.25"),
)


def _named(name: str) -> Any:
    for pattern, value in BY_NAME:
        if re.search(pattern, name):
            return value
    return None


def _known(schema: dict[str, Any], name: str) -> bool:
    """Has a value of its own to show (an example, enum, reference or a name this API knows)."""
    return (
        bool(schema.get("examples") or "example" in schema or schema.get("enum") or "$ref" in schema)
        or _named(name) is not None
    )


class _Composer:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self._schemas = schemas
        self._busy: set[str] = set()

    def example(self, schema: dict[str, Any], name: str = "") -> Any:
        if schema.get("examples"):
            first = schema["examples"]
            return first[0] if isinstance(first, list) else next(iter(first.values())).get("value")
        if "example" in schema:
            return schema["example"]
        if "$ref" in schema:
            return self._ref(schema["$ref"].rsplit("/", 1)[-1], name)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("default") is not None:
            return schema["default"]
        for key in ("anyOf", "oneOf", "allOf"):
            options = [s for s in schema.get(key, []) if s.get("type") != "null"]
            nullable = len(options) < len(schema.get(key, []))
            if options and nullable and not _known(options[0], name):
                return None  # an optional field with nothing to show: null, as the API answers it
            if options:
                return self.example(options[0], name)
            if key in schema:
                return None
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            out = {k: self.example(v, k) for k, v in props.items()}
            extra = schema.get("additionalProperties")
            if not props and isinstance(extra, dict):  # a mapping: one entry (a parameter name to its values)
                out = {"n": self.example(extra, "n")}
            return out
        if kind == "array":
            item = self.example(schema.get("items", {}), name.removesuffix("s"))
            return [] if item is None else [item] * max(1, int(schema.get("minItems", 1)))
        return self._scalar(schema, name, kind)

    def _ref(self, target: str, name: str) -> Any:
        if target in self._busy:  # a recursive schema: stop here
            return None
        self._busy.add(target)
        try:
            return self.example(self._schemas.get(target, {}), name)
        finally:
            self._busy.discard(target)

    def _scalar(self, schema: dict[str, Any], name: str, kind: Any) -> Any:
        named = _named(name)
        if kind == "boolean":
            return False
        if kind in ("integer", "number"):
            return _within(schema, named if isinstance(named, int) else 1, kind == "integer")
        literal = re.fullmatch(r"\^([\w.-]+)\$", str(schema.get("pattern", "")))
        if literal:
            return literal.group(1)
        if schema.get("format") == "date-time":
            return "2025-12-04T07:00:00Z"
        if schema.get("format") == "date":
            return "2025-12-30"
        text = named if isinstance(named, str) else name or "text"
        short, long = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < short:
            text = (text + "_" + "3f2a9c01d4e5b6a7" * (short // 16 + 1))[:short]
        return text if long is None else text[: int(long)]


def _within(schema: dict[str, Any], value: float, integer: bool) -> float | int:
    """``value``, moved inside the schema's bounds (exclusive ones too)."""
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    lo = low if low is not None else xlow
    hi = high if high is not None else xhigh
    if lo is not None and (value < lo or (xlow is not None and value <= xlow)):
        value = lo + 1 if integer or hi is None else (lo + hi) / 2
    if hi is not None and (value > hi or (xhigh is not None and value >= xhigh)):
        value = hi - 1 if integer else ((lo or 0) + hi) / 2
    return int(value) if integer else value


def add_examples(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        schemas = doc.get("components", {}).get("schemas", {})
        composer = _Composer(schemas)
        for schema in schemas.values():
            if "example" not in schema and not schema.get("examples"):
                schema["examples"] = [composer.example({**schema, "examples": None})]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
