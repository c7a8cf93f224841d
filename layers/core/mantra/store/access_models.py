"""Access tables: API keys (hashed at rest), rate-limit and allowance counters (atomic, one item per tenant and
window), phone verification codes (hashed)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel, TTLAttribute


class KeyHashIndex(GlobalSecondaryIndex["ApiKeyItem"]):
    """Authentication looks a presented key up by its hash."""

    class Meta:
        index_name = "by_hash"
        projection = AllProjection()

    key_hash = UnicodeAttribute(hash_key=True)


class ApiKeyItem(BaseModel):
    base_name = "api_keys"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "api_keys"

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    key_hash = UnicodeAttribute()  # SHA-256 of the whole key; the key itself is never stored
    prefix = UnicodeAttribute()  # the first characters, to recognise a key in a list
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_ms = NumberAttribute()
    last_used_ms = NumberAttribute(null=True)
    revoked_ms = NumberAttribute(null=True)
    by_hash = KeyHashIndex()


class RateCounterItem(BaseModel):
    base_name = "rate_counters"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "rate_counters"

    counter = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{window_start_s}"
    count = NumberAttribute(default=0)  # type: ignore[assignment]  # the stored name; shadows Model.count
    expires_at = TTLAttribute()


class PhoneChallengeItem(BaseModel):
    """A phone verification code waiting for its user: only its salted hash, with an expiry and attempts."""

    base_name = "phone_challenges"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "phone_challenges"

    user_id = UnicodeAttribute(hash_key=True)
    phone_e164 = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    salt = UnicodeAttribute()
    expires_ms = NumberAttribute()
    attempts = NumberAttribute(default=0)
    sent_ms = NumberAttribute()
    sends = NumberAttribute()
    window_start_ms = NumberAttribute()
    expires_at = TTLAttribute()  # the item goes once its send window has passed


ACCESS_MODELS: tuple[type[BaseModel], ...] = (ApiKeyItem, RateCounterItem, PhoneChallengeItem)
