"""Account tables: e-mail claims (one account per address, atomically), e-mailed codes (hashed) and refresh
tokens (hashed, in rotation families)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from mantra.store.models import BaseModel, TTLAttribute


class AccountEmailItem(BaseModel):
    """An address taken by an account: written in the same transaction as the user, so two sign-ups with one
    address cannot both succeed (the users table's e-mail index is eventually consistent)."""

    base_name = "account_emails"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "account_emails"

    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_ms = NumberAttribute()


class AccountCodeItem(BaseModel):
    """A code e-mailed for one purpose (sign-up, password reset, e-mail change): only its salted hash."""

    base_name = "account_codes"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "account_codes"

    subject = UnicodeAttribute(hash_key=True)  # "{purpose}#{user_id}"
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()  # where the code went (for an e-mail change: the new address)
    code_hash = UnicodeAttribute()
    salt = UnicodeAttribute()
    expires_ms = NumberAttribute()
    attempts = NumberAttribute(default=0)
    sent_ms = NumberAttribute()
    sends = NumberAttribute()
    window_start_ms = NumberAttribute()
    expires_at = TTLAttribute()  # the item goes once its send window has passed


class RefreshFamilyIndex(GlobalSecondaryIndex["RefreshTokenItem"]):
    """Every token of one sign-in: a reused token revokes them all."""

    class Meta:
        index_name = "by_family"
        projection = AllProjection()

    family_id = UnicodeAttribute(hash_key=True)


class RefreshUserIndex(GlobalSecondaryIndex["RefreshTokenItem"]):
    """Every token of one user: a password reset or account deletion ends all their sessions."""

    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)


class RefreshTokenItem(BaseModel):
    base_name = "refresh_tokens"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "refresh_tokens"

    token_hash = UnicodeAttribute(hash_key=True)  # SHA-256 of the token; the token itself is never stored
    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    issued_ms = NumberAttribute()
    expires_ms = NumberAttribute()
    used_ms = NumberAttribute(null=True)  # rotated: presenting it again is reuse
    revoked_ms = NumberAttribute(null=True)
    expires_at = TTLAttribute()
    by_family = RefreshFamilyIndex()
    by_user = RefreshUserIndex()


ACCOUNT_MODELS: tuple[type[BaseModel], ...] = (AccountEmailItem, AccountCodeItem, RefreshTokenItem)
