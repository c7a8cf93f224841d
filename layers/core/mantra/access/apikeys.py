"""API keys for programmatic clients (plans with ``api_access``).

A key is ``tm_live_<key_id>_<secret>``: 32 random bytes from ``secrets``, shown once when created. Only its
SHA-256 hash and a short prefix are stored; a presented key is found by its hash. ``last_used_ms`` is written
at most once a minute per key, so authentication stays one read in the common case.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import Frozen, User
from mantra.errors import LimitExceeded, NotFound, Unauthorized

KEY_PREFIX = "tm_live_"
SECRET_BYTES = 32
KEY_ID_BYTES = 6
SHOWN_SECRET_CHARS = 4  # of the secret, in the listed prefix: enough to tell keys apart, useless to guess
TOUCH_EVERY_MS = 60_000
MAX_ACTIVE_KEYS = 25
KEY_FORMAT = re.compile(r"tm_live_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")


class ApiKey(Frozen):
    key_id: str
    tenant_id: str
    user_id: str
    name: str
    prefix: str
    created_ms: int
    last_used_ms: int | None = None
    revoked_ms: int | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_ms is not None


class ApiKeyRepository(Protocol):
    def create(self, key: ApiKey, key_hash: str) -> None: ...

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None: ...

    def list(self, tenant_id: str) -> list[ApiKey]: ...

    def by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        """The key stored under ``key_hash``, with the stored hash (compared again in constant time)."""
        ...

    def revoke(self, tenant_id: str, key_id: str, at_ms: int) -> ApiKey | None:
        """Marks the key revoked (keeps the first revocation time); None when the tenant has no such key."""
        ...

    def touch(self, tenant_id: str, key_id: str, at_ms: int, stale_before_ms: int) -> None:
        """Sets ``last_used_ms`` to ``at_ms`` only if it is unset or older than ``stale_before_ms``.

        A concurrent request that already moved it wins silently; a deleted key is not re-created.
        """
        ...


def hash_key(key: str) -> str:
    """SHA-256 of the whole key: the key has 256 random bits, so a fast hash is as good as a slow one."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyService:
    def __init__(self, keys: ApiKeyRepository, clock: Clock, touch_every_ms: int = TOUCH_EVERY_MS) -> None:
        self._keys, self._clock, self._touch_every_ms = keys, clock, touch_every_ms

    def create(self, user: User, name: str) -> tuple[ApiKey, str]:
        """A new key for the user's tenant; the full key is returned only here."""
        active = [k for k in self._keys.list(user.tenant_id) if not k.revoked]
        if len(active) >= MAX_ACTIVE_KEYS:
            raise LimitExceeded(
                f"api keys: at most {MAX_ACTIVE_KEYS} active keys per account; "
                "revoke one with DELETE /api/keys/{key_id}"
            )
        key_id = secrets.token_hex(KEY_ID_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        full = f"{KEY_PREFIX}{key_id}_{secret}"
        key = ApiKey(
            key_id=key_id,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            name=name,
            prefix=f"{KEY_PREFIX}{key_id}_{secret[:SHOWN_SECRET_CHARS]}",
            created_ms=self._clock.now_ms(),
        )
        self._keys.create(key, hash_key(full))
        return key, full

    def list(self, user: User) -> list[ApiKey]:
        return sorted(self._keys.list(user.tenant_id), key=lambda k: k.created_ms, reverse=True)

    def revoke(self, user: User, key_id: str) -> ApiKey:
        """Revokes one of the tenant's keys (again: no change); another tenant's key is not found."""
        revoked = self._keys.revoke(user.tenant_id, key_id, self._clock.now_ms())
        if revoked is None:
            raise NotFound(f"api key {key_id} not found")
        return revoked

    def authenticate(self, presented: str) -> ApiKey:
        """The key a client presented, if it exists and is not revoked; 401 otherwise."""
        if not KEY_FORMAT.fullmatch(presented):
            raise Unauthorized("malformed API key: expected tm_live_<key id>_<secret> in X-API-Key")
        digest = hash_key(presented)
        found = self._keys.by_hash(digest)
        if found is None or not hmac.compare_digest(found[1], digest):
            raise Unauthorized("unknown API key")
        key = found[0]
        if key.revoked:
            raise Unauthorized(f"API key {key.prefix}… was revoked")
        now = self._clock.now_ms()
        if key.last_used_ms is None or now - key.last_used_ms >= self._touch_every_ms:
            self._keys.touch(key.tenant_id, key.key_id, now, now - self._touch_every_ms + 1)
        return key
