"""Sessions: refresh tokens for the development issuer (Cognito keeps its own in the cloud).

A sign-in starts a family; each refresh spends the token presented (a conditional write) and hands out the next
of its family. Presenting a spent token again means it was copied: the whole family is revoked, so the thief
and the owner both sign in again (OAuth 2.0 Security BCP, refresh token rotation). Only SHA-256 hashes are
stored. Logout revokes the family; a password reset revokes every family of the user.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import Frozen
from mantra.errors import Unauthorized

PREFIX = "tmr_"


class RefreshToken(Frozen):
    token_hash: str
    family_id: str
    user_id: str
    issued_ms: int
    expires_ms: int
    used_ms: int | None = None
    revoked_ms: int | None = None


class RefreshStore(Protocol):
    def put(self, token: RefreshToken) -> None: ...
    def get(self, token_hash: str) -> RefreshToken | None: ...
    def mark_used(self, token_hash: str, at_ms: int) -> bool:
        """Spend it, if it is neither spent nor revoked: True once, for one caller."""
        ...

    def revoke_family(self, family_id: str, at_ms: int) -> int: ...
    def revoke_user(self, user_id: str, at_ms: int) -> int: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, store: RefreshStore, clock: Clock, ttl_s: int = 30 * 86_400) -> None:
        self._store, self._clock, self._ttl_ms = store, clock, ttl_s * 1000

    def _issue(self, user_id: str, family_id: str) -> str:
        token = PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        self._store.put(
            RefreshToken(
                token_hash=token_hash(token),
                family_id=family_id,
                user_id=user_id,
                issued_ms=now,
                expires_ms=now + self._ttl_ms,
            )
        )
        return token

    def start(self, user_id: str) -> str:
        """A new session (family) for a sign-in; its first refresh token."""
        return self._issue(user_id, f"fam_{secrets.token_hex(12)}")

    def rotate(self, token: str) -> tuple[str, str]:
        """(user_id, the next refresh token) for a live token; reuse of a spent one ends its whole family."""
        now = self._clock.now_ms()
        found = self._store.get(token_hash(token.strip()))
        if found is None:
            raise Unauthorized("refresh_token: not a refresh token we issued; sign in with POST /auth/token")
        if found.revoked_ms is not None:
            raise Unauthorized("refresh_token: this session has ended; sign in with POST /auth/token")
        if now >= found.expires_ms:
            raise Unauthorized("refresh_token: expired; sign in with POST /auth/token")
        if found.used_ms is not None or not self._store.mark_used(found.token_hash, now):
            self._store.revoke_family(found.family_id, now)
            raise Unauthorized(
                "refresh_token: already used once, so it may have been copied: this session has ended "
                "everywhere; sign in with POST /auth/token"
            )
        return found.user_id, self._issue(found.user_id, found.family_id)

    def end(self, token: str) -> None:
        """Logout: the token's whole session ends (an unknown token is already no session)."""
        found = self._store.get(token_hash(token.strip()))
        if found is not None:
            self._store.revoke_family(found.family_id, self._clock.now_ms())

    def end_all(self, user_id: str) -> int:
        return self._store.revoke_user(user_id, self._clock.now_ms())
