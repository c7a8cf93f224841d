"""In-memory stand-ins for the account ports (same contracts as mantra.store.account_repository), and a mailbox
that keeps what was sent, so tests read the code out of the e-mail as a person would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mantra.auth.accounts import AccountService, Credentials, LocalIdentity
from mantra.auth.codes import SPENT, CodeBook, EmailCode
from mantra.auth.mfa import Mfa
from mantra.auth.sessions import RefreshToken, Sessions
from mantra.clock import Clock
from mantra.domain import User


@dataclass
class Row:
    pending: bool = False
    created_ms: int = 0
    mfa_secret: str | None = None
    mfa_pending_secret: str | None = None
    mfa_last_step: int | None = None


class InMemoryAccounts:
    """Accounts over a users dict (user_id -> (User, password hash)) that a container's user fake shares."""

    def __init__(self, users: dict[str, tuple[User, str]] | None = None) -> None:
        self.users = users if users is not None else {}
        self.rows: dict[str, Row] = {}
        self.claims: dict[str, str] = {}

    def _creds(self, user_id: str) -> Credentials | None:
        if user_id not in self.users:
            return None
        user, pw = self.users[user_id]
        row = self.rows.setdefault(user_id, Row())
        return Credentials(
            user=user,
            password_hash=pw,
            pending=row.pending,
            created_ms=row.created_ms,
            mfa_secret=row.mfa_secret,
            mfa_pending_secret=row.mfa_pending_secret,
            mfa_last_step=row.mfa_last_step,
        )

    def credentials(self, email: str) -> Credentials | None:
        email = email.strip().lower()
        uid = self.claims.get(email) or next(
            (u.user_id for u, _ in self.users.values() if u.email == email), None
        )
        return None if uid is None else self._creds(uid)

    def credentials_of(self, user_id: str) -> Credentials | None:
        return self._creds(user_id)

    def create_pending(self, user: User, password_hash: str, at_ms: int) -> bool:
        if user.email in self.claims or user.user_id in self.users:
            return False
        self.claims[user.email] = user.user_id
        self.users[user.user_id] = (user, password_hash)
        self.rows[user.user_id] = Row(pending=True, created_ms=at_ms)
        return True

    def discard_pending(self, user_id: str, email: str) -> bool:
        if not self.rows.get(user_id, Row()).pending:
            return False
        self.users.pop(user_id)
        self.rows.pop(user_id)
        self.claims.pop(email, None)
        return True

    def activate(self, user_id: str, at_ms: int) -> None:
        self.rows[user_id].pending = False

    def set_password(self, user_id: str, password_hash: str) -> None:
        self.users[user_id] = (self.users[user_id][0], password_hash)

    def set_pending_mfa(self, user_id: str, secret: str) -> None:
        self.rows.setdefault(user_id, Row()).mfa_pending_secret = secret

    def enable_mfa(self, user_id: str, secret: str, at_ms: int, step: int) -> bool:
        row = self.rows.setdefault(user_id, Row())
        if row.mfa_pending_secret != secret:
            return False
        row.mfa_secret, row.mfa_pending_secret, row.mfa_last_step = secret, None, step
        user, pw = self.users[user_id]
        self.users[user_id] = (user.model_copy(update={"mfa_enabled": True}), pw)
        return True

    def use_totp_step(self, user_id: str, step: int) -> bool:
        row = self.rows.setdefault(user_id, Row())
        if row.mfa_secret is None or (row.mfa_last_step is not None and row.mfa_last_step >= step):
            return False
        row.mfa_last_step = step
        return True

    def change_email(self, user_id: str, old: str, new: str, at_ms: int) -> bool:
        if new in self.claims:
            return False
        user, pw = self.users[user_id]
        self.users[user_id] = (user.model_copy(update={"email": new}), pw)
        self.claims.pop(old, None)
        self.claims[new] = user_id
        return True


class InMemoryEmailCodes:
    def __init__(self) -> None:
        self.items: dict[str, EmailCode] = {}

    def get(self, subject: str) -> EmailCode | None:
        return self.items.get(subject)

    def put(self, code: EmailCode, previous_sent_ms: int | None) -> bool:
        current = self.items.get(code.subject)
        if (current.sent_ms if current else None) != previous_sent_ms:
            return False
        self.items[code.subject] = code
        return True

    def spend_attempt(self, subject: str, code_hash: str, max_attempts: int) -> bool:
        c = self.items.get(subject)
        if c is None or c.code_hash != code_hash or c.attempts >= max_attempts:
            return False
        self.items[subject] = c.model_copy(update={"attempts": c.attempts + 1})
        return True

    def consume(self, subject: str, code_hash: str) -> bool:
        c = self.items.get(subject)
        if c is None or c.code_hash != code_hash:
            return False
        self.items[subject] = c.model_copy(update={"code_hash": SPENT})
        return True

    def delete(self, subject: str) -> None:
        self.items.pop(subject, None)


class InMemoryAttempts:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def count(self, counter: str) -> int:
        return self.counts.get(counter, 0)

    def increment(self, counter: str, expires_at_s: int) -> int:
        self.counts[counter] = self.counts.get(counter, 0) + 1
        return self.counts[counter]


@dataclass
class Mailbox:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        self.sent.append({"to": to, "subject": subject, "text": text, "headers": headers})

    def code_for(self, to: str) -> str:
        """The code in the last e-mail to ``to``."""
        last = [m for m in self.sent if m["to"] == to][-1]
        found = re.search(r"\b(\d{6})\b", last["text"])
        assert found, last["text"]
        return found.group(1)


class InMemoryRefreshTokens:
    def __init__(self) -> None:
        self.items: dict[str, RefreshToken] = {}

    def put(self, token: RefreshToken) -> None:
        assert token.token_hash not in self.items
        self.items[token.token_hash] = token

    def get(self, token_hash: str) -> RefreshToken | None:
        return self.items.get(token_hash)

    def mark_used(self, token_hash: str, at_ms: int) -> bool:
        t = self.items.get(token_hash)
        if t is None or t.used_ms is not None or t.revoked_ms is not None:
            return False
        self.items[token_hash] = t.model_copy(update={"used_ms": at_ms})
        return True

    def _revoke(self, match: Any, at_ms: int) -> int:
        hit = [h for h, t in self.items.items() if match(t) and t.revoked_ms is None]
        for h in hit:
            self.items[h] = self.items[h].model_copy(update={"revoked_ms": at_ms})
        return len(hit)

    def revoke_family(self, family_id: str, at_ms: int) -> int:
        return self._revoke(lambda t: t.family_id == family_id, at_ms)

    def revoke_user(self, user_id: str, at_ms: int) -> int:
        return self._revoke(lambda t: t.user_id == user_id, at_ms)


def accounts_service(
    clock: Clock, users: dict[str, tuple[User, str]] | None = None, sessions: Sessions | None = None
) -> tuple[AccountService, InMemoryAccounts, Mailbox, InMemoryAttempts]:
    store, mail, attempts = InMemoryAccounts(users), Mailbox(), InMemoryAttempts()
    codes = CodeBook(InMemoryEmailCodes(), mail, clock)
    service = AccountService(
        store,
        LocalIdentity(store, codes),
        codes,
        attempts,
        clock,
        sessions=sessions,
        second_factor=Mfa(store, clock),
    )
    return service, store, mail, attempts
