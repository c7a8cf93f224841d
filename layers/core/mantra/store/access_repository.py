"""API keys and rate-limit counters in DynamoDB: the only code that touches the access tables."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, PutError

from mantra.access.apikeys import ApiKey
from mantra.alerts.phone import PhoneChallenge
from mantra.one_time_codes import DAY_MS
from mantra.store import repositories  # first: it loads store.models, which access_models needs loaded
from mantra.store.access_models import ApiKeyItem, PhoneChallengeItem, RateCounterItem

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


class DynamoQuotaCounter:
    """An allowance (SMS alerts a month): ``ADD count :one`` only while the count is below the limit."""

    def take(self, counter: str, limit: int, expires_at_s: int) -> bool:
        below = RateCounterItem.count.does_not_exist() | (RateCounterItem.count < limit)
        expires = datetime.fromtimestamp(expires_at_s, tz=UTC)
        return repositories.update_if(
            RateCounterItem(counter=counter),
            [RateCounterItem.count.add(1), RateCounterItem.expires_at.set(expires)],
            below,
        )

    def give_back(self, counter: str) -> None:
        repositories.update_if(
            RateCounterItem(counter=counter), [RateCounterItem.count.add(-1)], RateCounterItem.count > 0
        )


def _challenge(item: PhoneChallengeItem) -> PhoneChallenge:
    return PhoneChallenge(
        user_id=item.user_id,
        phone_e164=item.phone_e164,
        code_hash=item.code_hash,
        salt=item.salt,
        expires_ms=int(item.expires_ms),
        attempts=int(item.attempts or 0),
        sent_ms=int(item.sent_ms),
        sends=int(item.sends),
        window_start_ms=int(item.window_start_ms),
    )


class DynamoPhoneChallenges:
    """One waiting code per user; every change is conditional on the code (or send) it was read with."""

    def get(self, user_id: str) -> PhoneChallenge | None:
        try:
            return _challenge(PhoneChallengeItem.get(user_id, consistent_read=True))
        except PhoneChallengeItem.DoesNotExist:
            return None

    def put(self, challenge: PhoneChallenge, previous_sent_ms: int | None) -> bool:
        item = PhoneChallengeItem(
            **challenge.model_dump(),
            expires_at=datetime.fromtimestamp((challenge.window_start_ms + DAY_MS) / 1000, tz=UTC),
        )
        unchanged = (
            PhoneChallengeItem.user_id.does_not_exist()
            if previous_sent_ms is None
            else PhoneChallengeItem.sent_ms == previous_sent_ms
        )
        try:
            item.save(condition=unchanged)
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def spend_attempt(self, user_id: str, code_hash: str, max_attempts: int) -> bool:
        left = (PhoneChallengeItem.code_hash == code_hash) & (
            PhoneChallengeItem.attempts.does_not_exist() | (PhoneChallengeItem.attempts < max_attempts)
        )
        return repositories.update_if(
            PhoneChallengeItem(user_id=user_id), [PhoneChallengeItem.attempts.add(1)], left
        )

    def consume(self, user_id: str, code_hash: str) -> bool:
        try:
            PhoneChallengeItem(user_id=user_id).delete(condition=PhoneChallengeItem.code_hash == code_hash)
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def delete(self, user_id: str) -> None:
        PhoneChallengeItem(user_id=user_id).delete()
