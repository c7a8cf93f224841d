"""API keys and rate-limit counters in DynamoDB: the only code that touches the access tables."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime

from mantra.access.apikeys import ApiKey
from mantra.store import repositories  # first: it loads store.models, which access_models needs loaded
from mantra.store.access_models import ApiKeyItem, RateCounterItem

_conditional_failed = repositories._conditional_failed


def _key(item: ApiKeyItem) -> ApiKey:
    return ApiKey(
        key_id=item.key_id,
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        name=item.name,
        prefix=item.prefix,
        created_ms=int(item.created_ms),
        last_used_ms=None if item.last_used_ms is None else int(item.last_used_ms),
        revoked_ms=None if item.revoked_ms is None else int(item.revoked_ms),
    )


class DynamoApiKeyRepository:
    def create(self, key: ApiKey, key_hash: str) -> None:
        ApiKeyItem(
            tenant_id=key.tenant_id,
            key_id=key.key_id,
            key_hash=key_hash,
            prefix=key.prefix,
            user_id=key.user_id,
            name=key.name,
            created_ms=key.created_ms,
        ).save(condition=ApiKeyItem.key_id.does_not_exist())

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        try:
            return _key(ApiKeyItem.get(tenant_id, key_id, consistent_read=True))
        except ApiKeyItem.DoesNotExist:
            return None

    def list(self, tenant_id: str) -> builtins.list[ApiKey]:
        return [_key(i) for i in ApiKeyItem.query(tenant_id)]

    def by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        for item in ApiKeyItem.by_hash.query(key_hash, limit=1):
            return _key(item), item.key_hash
        return None

    def revoke(self, tenant_id: str, key_id: str, at_ms: int) -> ApiKey | None:
        item = ApiKeyItem(tenant_id=tenant_id, key_id=key_id)
        # the first revocation stays
        revoked = ApiKeyItem.revoked_ms.set(ApiKeyItem.revoked_ms | at_ms)
        if not repositories.update_if(item, [revoked], ApiKeyItem.key_id.exists()):
            return None
        return _key(item)

    def touch(self, tenant_id: str, key_id: str, at_ms: int, stale_before_ms: int) -> None:
        stale = ApiKeyItem.last_used_ms.does_not_exist() | (ApiKeyItem.last_used_ms < stale_before_ms)
        # not stale (or revoked and gone): nothing to write
        repositories.update_if(
            ApiKeyItem(tenant_id=tenant_id, key_id=key_id),
            [ApiKeyItem.last_used_ms.set(at_ms)],
            ApiKeyItem.key_id.exists() & stale,
        )


class DynamoRateCounter:
    """One UpdateItem per call: ``ADD count :one`` with the window's expiry, returning the new count."""

    def increment(self, counter: str, expires_at_s: int) -> int:
        expires = datetime.fromtimestamp(expires_at_s, tz=UTC)
        response = RateCounterItem._get_connection().update_item(
            counter,
            actions=[RateCounterItem.count.add(1), RateCounterItem.expires_at.set(expires)],
            return_values="UPDATED_NEW",
        )
        return int(response["Attributes"]["count"]["N"])
