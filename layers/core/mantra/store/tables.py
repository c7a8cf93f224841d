"""Table specs derived from the models, for CDK and for creating the local tables."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel as Schema
from pydantic import ConfigDict

from mantra.settings import Settings
from mantra.store.models import ALL_MODELS, BaseModel


class KeySpec(Schema):
    model_config = ConfigDict(frozen=True)
    name: str
    type: str  # "S" | "N" | "B"


class IndexSpec(Schema):
    model_config = ConfigDict(frozen=True)
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None


class TableSpec(Schema):
    model_config = ConfigDict(frozen=True)
    base_name: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None
    stream_view_type: str | None = None
    tenant_scoped: bool = False


def _key(schema: dict[str, Any], key_schema: list[dict[str, str]], key_type: str) -> KeySpec | None:
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    for k in key_schema:
        if k["KeyType"] == key_type:
            return KeySpec(name=k["AttributeName"], type=types[k["AttributeName"]])
    return None


def spec_of(model: type[BaseModel]) -> TableSpec:
    schema: dict[str, Any] = dict(model._get_schema())
    pk = _key(schema, schema["key_schema"], "HASH")
    assert pk is not None
    indexes = tuple(
        IndexSpec(
            name=gsi["index_name"],
            partition_key=_key(schema, gsi["key_schema"], "HASH"),
            sort_key=_key(schema, gsi["key_schema"], "RANGE"),
        )
        for gsi in schema["global_secondary_indexes"]
    )
    ttl = model._ttl_attribute()
    return TableSpec(
        base_name=model.base_name,
        partition_key=pk,
        sort_key=_key(schema, schema["key_schema"], "RANGE"),
        indexes=indexes,
        ttl_attribute=ttl.attr_name if ttl is not None else None,
        stream_view_type=getattr(model.Meta, "stream_view_type", None),
        tenant_scoped=model.tenant_scoped,
    )


def table_specs() -> tuple[TableSpec, ...]:
    return tuple(spec_of(m) for m in ALL_MODELS)


def model_for(base_name: str) -> type[BaseModel]:
    for m in ALL_MODELS:
        if m.base_name == base_name:
            return m
    raise KeyError(base_name)


POOL_CONNECTIONS = 32


def configure(settings: Settings) -> None:
    """Point every model at its deployed table. Endpoints come from AWS_ENDPOINT_URL_DYNAMODB via botocore."""
    for m in ALL_MODELS:
        m.Meta.table_name = settings.name(m.base_name)
        setattr(m.Meta, "region", settings.region)  # noqa: B010 - PynamoDB reads Meta.region
        # the repositories read and write side by side (up to 16 + 8 threads): keep every connection for reuse
        setattr(m.Meta, "max_pool_connections", POOL_CONNECTIONS)  # noqa: B010
        m._connection = None
        for index in m._indexes.values():
            index._connection = None  # type: ignore[attr-defined]


def create_all(settings: Settings) -> list[str]:
    """Create any missing table (with streams and TTL as declared). Returns the names created."""
    configure(settings)
    created = []
    for m in ALL_MODELS:
        if not m.exists():
            m.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            created.append(m.Meta.table_name)
    return created
