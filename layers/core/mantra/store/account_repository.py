"""Accounts in DynamoDB: users' credentials and state, e-mail claims, e-mailed codes, sign-in failure counters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, PutError
from pynamodb.transactions import TransactWrite

from mantra.auth.accounts import Credentials
from mantra.auth.codes import SPENT, EmailCode, Purpose
from mantra.auth.sessions import RefreshToken
from mantra.domain import User
from mantra.one_time_codes import DAY_MS
from mantra.store import repositories  # first: it loads store.models, which account_models needs loaded
from mantra.store.access_models import RateCounterItem
from mantra.store.account_models import AccountCodeItem, AccountEmailItem, RefreshTokenItem
from mantra.store.models import UserItem

_conditional_failed = repositories._conditional_failed
PENDING = "pending"


def _credentials(item: UserItem) -> Credentials:
    return Credentials(
        user=repositories.DynamoUserRepository._to_domain(item),
        password_hash=item.password_hash,
        pending=item.status == PENDING,
        created_ms=int(item.created_ms),
        mfa_secret=item.mfa_secret,
        mfa_pending_secret=item.mfa_pending_secret,
        mfa_last_step=None if item.mfa_last_step is None else int(item.mfa_last_step),
    )


class DynamoAccounts:
    """The users table seen as accounts; the claim table makes an address belong to one account at a time."""

    def credentials(self, email: str) -> Credentials | None:
        email = email.strip().lower()
        try:  # the claim is strongly consistent; seeded users have none and are found by the index
            claim = AccountEmailItem.get(email, consistent_read=True)
        except AccountEmailItem.DoesNotExist:
            claim = None
        if claim is not None:
            return self.credentials_of(claim.user_id)
        for item in UserItem.by_email.query(email):
            return _credentials(item)
        return None

    def credentials_of(self, user_id: str) -> Credentials | None:
        try:
            return _credentials(UserItem.get(user_id, consistent_read=True))
        except UserItem.DoesNotExist:
            return None

    def create_pending(self, user: User, password_hash: str, at_ms: int) -> bool:
        def write(tx: TransactWrite) -> None:
            tx.save(
                AccountEmailItem(email=user.email, user_id=user.user_id, created_ms=at_ms),
                condition=AccountEmailItem.email.does_not_exist(),
            )
            tx.save(
                UserItem(
                    user_id=user.user_id,
                    email=user.email,
                    name=user.name,
                    tenant_id=user.tenant_id,
                    roles={r.value for r in user.roles},
                    plan_id=user.plan_id,
                    password_hash=password_hash,
                    created_ms=at_ms,
                    status=PENDING,
                ),
                condition=UserItem.user_id.does_not_exist(),
            )

        return repositories._transact(UserItem, write)

    def discard_pending(self, user_id: str, email: str) -> bool:
        def write(tx: TransactWrite) -> None:
            tx.delete(UserItem(user_id=user_id), condition=UserItem.status == PENDING)
            tx.delete(AccountEmailItem(email=email), condition=AccountEmailItem.user_id == user_id)

        return repositories._transact(UserItem, write)

    def activate(self, user_id: str, at_ms: int) -> None:
        UserItem(user_id=user_id).update(
            actions=[UserItem.status.remove(), UserItem.confirmed_ms.set(at_ms)],
            condition=UserItem.user_id.exists(),
        )

    def set_password(self, user_id: str, password_hash: str) -> None:
        UserItem(user_id=user_id).update(
            actions=[UserItem.password_hash.set(password_hash)], condition=UserItem.user_id.exists()
        )

    def set_pending_mfa(self, user_id: str, secret: str) -> None:
        UserItem(user_id=user_id).update(
            actions=[UserItem.mfa_pending_secret.set(secret)], condition=UserItem.user_id.exists()
        )

    def enable_mfa(self, user_id: str, secret: str, at_ms: int, step: int) -> bool:
        return repositories.update_if(
            UserItem(user_id=user_id),
            [
                UserItem.mfa_secret.set(secret),
                UserItem.mfa_pending_secret.remove(),
                UserItem.mfa_enabled_ms.set(at_ms),
                UserItem.mfa_last_step.set(step),
            ],
            UserItem.mfa_pending_secret == secret,
        )

    def use_totp_step(self, user_id: str, step: int) -> bool:
        later = UserItem.mfa_last_step.does_not_exist() | (UserItem.mfa_last_step < step)
        return repositories.update_if(
            UserItem(user_id=user_id),
            [UserItem.mfa_last_step.set(step)],
            UserItem.mfa_secret.exists() & later,
        )

    def change_email(self, user_id: str, old: str, new: str, at_ms: int) -> bool:
        def write(tx: TransactWrite) -> None:
            tx.save(
                AccountEmailItem(email=new, user_id=user_id, created_ms=at_ms),
                condition=AccountEmailItem.email.does_not_exist(),
            )
            tx.update(
                UserItem(user_id=user_id),
                actions=[UserItem.email.set(new)],
                condition=UserItem.email == old,
            )

        if not repositories._transact(UserItem, write):
            return False
        try:  # a seeded user had no claim on the old address: nothing to release
            AccountEmailItem(email=old).delete(condition=AccountEmailItem.user_id == user_id)
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise
        return True


def _code(item: AccountCodeItem) -> EmailCode:
    purpose, _ = item.subject.split("#", 1)
    return EmailCode(
        purpose=Purpose(purpose),
        user_id=item.user_id,
        email=item.email,
        code_hash=item.code_hash,
        salt=item.salt,
        expires_ms=int(item.expires_ms),
        attempts=int(item.attempts or 0),
        sent_ms=int(item.sent_ms),
        sends=int(item.sends),
        window_start_ms=int(item.window_start_ms),
    )


class DynamoEmailCodes:
    """One waiting code per purpose and user; every change is conditional on the code (or send) it was read
    with."""

    def get(self, subject: str) -> EmailCode | None:
        try:
            return _code(AccountCodeItem.get(subject, consistent_read=True))
        except AccountCodeItem.DoesNotExist:
            return None

    def put(self, code: EmailCode, previous_sent_ms: int | None) -> bool:
        item = AccountCodeItem(
            subject=code.subject,
            **code.model_dump(exclude={"purpose"}),
            expires_at=datetime.fromtimestamp((code.window_start_ms + DAY_MS) / 1000, tz=UTC),
        )
        unchanged = (
            AccountCodeItem.subject.does_not_exist()
            if previous_sent_ms is None
            else AccountCodeItem.sent_ms == previous_sent_ms
        )
        try:
            item.save(condition=unchanged)
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def spend_attempt(self, subject: str, code_hash: str, max_attempts: int) -> bool:
        left = (AccountCodeItem.code_hash == code_hash) & (
            AccountCodeItem.attempts.does_not_exist() | (AccountCodeItem.attempts < max_attempts)
        )
        return repositories.update_if(
            AccountCodeItem(subject=subject), [AccountCodeItem.attempts.add(1)], left
        )

    def consume(self, subject: str, code_hash: str) -> bool:
        # the send counters stay (the rate limit spans codes): the hash is replaced by a spent marker
        return repositories.update_if(
            AccountCodeItem(subject=subject),
            [AccountCodeItem.code_hash.set(SPENT)],
            AccountCodeItem.code_hash == code_hash,
        )

    def delete(self, subject: str) -> None:
        AccountCodeItem(subject=subject).delete()


class DynamoAttemptCounter:
    """Failure counters (sign-in) in the rate-counter table: one item per key and window, gone by TTL."""

    def count(self, counter: str) -> int:
        try:
            item = RateCounterItem.get(counter, consistent_read=True)
        except RateCounterItem.DoesNotExist:
            return 0
        return int(item.count or 0)

    def increment(self, counter: str, expires_at_s: int) -> int:
        from mantra.store.access_repository import DynamoRateCounter

        return DynamoRateCounter().increment(counter, expires_at_s)


def _refresh(item: RefreshTokenItem) -> RefreshToken:
    return RefreshToken(
        token_hash=item.token_hash,
        family_id=item.family_id,
        user_id=item.user_id,
        issued_ms=int(item.issued_ms),
        expires_ms=int(item.expires_ms),
        used_ms=None if item.used_ms is None else int(item.used_ms),
        revoked_ms=None if item.revoked_ms is None else int(item.revoked_ms),
    )


class DynamoRefreshTokens:
    """Refresh tokens by hash; spending one is a conditional write, revoking a family or a user a query."""

    def put(self, token: RefreshToken) -> None:
        RefreshTokenItem(
            **token.model_dump(exclude_none=True),
            expires_at=datetime.fromtimestamp(token.expires_ms / 1000, tz=UTC),
        ).save(condition=RefreshTokenItem.token_hash.does_not_exist())

    def get(self, token_hash: str) -> RefreshToken | None:
        try:
            return _refresh(RefreshTokenItem.get(token_hash, consistent_read=True))
        except RefreshTokenItem.DoesNotExist:
            return None

    def mark_used(self, token_hash: str, at_ms: int) -> bool:
        live = (
            RefreshTokenItem.token_hash.exists()
            & RefreshTokenItem.used_ms.does_not_exist()
            & RefreshTokenItem.revoked_ms.does_not_exist()
        )
        return repositories.update_if(
            RefreshTokenItem(token_hash=token_hash), [RefreshTokenItem.used_ms.set(at_ms)], live
        )

    def _revoke(self, items: Iterable[RefreshTokenItem], at_ms: int) -> int:
        n = 0
        for item in items:
            if item.revoked_ms is None and repositories.update_if(
                RefreshTokenItem(token_hash=item.token_hash),
                [RefreshTokenItem.revoked_ms.set(at_ms)],
                RefreshTokenItem.revoked_ms.does_not_exist(),
            ):
                n += 1
        return n

    def revoke_family(self, family_id: str, at_ms: int) -> int:
        return self._revoke(RefreshTokenItem.by_family.query(family_id), at_ms)

    def revoke_user(self, user_id: str, at_ms: int) -> int:
        return self._revoke(RefreshTokenItem.by_user.query(user_id), at_ms)
