"""Accounts a person opens themselves: sign-up, confirmation by an e-mailed code, sign-in, password reset and
e-mail change.

Who checks the codes and keeps the password is a port (``IdentityProvider``): locally ``LocalIdentity`` (the
development issuer: scrypt hashes in the users table, codes e-mailed to the SMTP sink), in the cloud Cognito's
SignUp / ConfirmSignUp / ForgotPassword (``store.cognito.CognitoIdentity``). Either way the users table holds
the account: its own tenant, the free plan, ``pending`` until confirmed. Billing starts with no billing
account, so the first paid plan's trial is on offer.

Rules stated once, here:

- a password has at least 12 characters with a lower-case letter, an upper-case letter, a digit and a symbol
  (the Cognito pool's policy, ``infra.constructs.identity``), at most 128;
- a second sign-up with a taken e-mail is 409 whether or not that account is confirmed (the same answer in both
  cases: it does not tell a stranger whether the owner finished signing up); an unconfirmed account older than
  24 hours no longer holds its address, so a mistyped or squatted sign-up does not lock the owner out;
- an unconfirmed account cannot sign in (401 saying to confirm);
- wrong passwords: 10 in 15 minutes lock sign-in for that e-mail until the window ends (429);
- a password reset ends every session (refresh tokens) of the account;
- with TOTP on (``auth.mfa``), sign-in needs a fresh code too.
"""

from __future__ import annotations

import re
import secrets
from typing import Protocol

from mantra.auth.codes import CodeBook, CodeSent, Purpose
from mantra.auth.passwords import hash_password, verify_password
from mantra.clock import Clock
from mantra.domain import Frozen, Role, User
from mantra.errors import Conflict, Invalid, RateLimited, Unauthorized

PENDING_HOLD_MS = 86_400_000
SIGNIN_WINDOW_S = 900
SIGNIN_FAILURES = 10
STRENGTH_RULE = "at least 12 characters, with a lower-case letter, an upper-case letter, a digit and a symbol"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def password_problem(password: str) -> str | None:
    """What the password lacks under the rule, or None."""
    if len(password) > 128:
        return "at most 128 characters"
    missing = [
        what
        for what, ok in (
            ("12 characters", len(password) >= 12),
            ("a lower-case letter", any(c.islower() for c in password)),
            ("an upper-case letter", any(c.isupper() for c in password)),
            ("a digit", any(c.isdigit() for c in password)),
            ("a symbol", any(not c.isalnum() for c in password)),
        )
        if not ok
    ]
    return f"needs {', '.join(missing)} ({STRENGTH_RULE})" if missing else None


def check_password(field: str, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid(f"{field}: {problem}")


def normal_email(email: str) -> str:
    return email.strip().lower()


class Credentials(Frozen):
    """What sign-in needs about an account (never leaves mantra: the hash and secret stay here)."""

    user: User
    password_hash: str
    pending: bool
    created_ms: int
    mfa_secret: str | None = None
    mfa_pending_secret: str | None = None
    mfa_last_step: int | None = None


class AccountStore(Protocol):
    def credentials(self, email: str) -> Credentials | None: ...
    def credentials_of(self, user_id: str) -> Credentials | None: ...
    def create_pending(self, user: User, password_hash: str, at_ms: int) -> bool:
        """The user (pending) and the claim on its e-mail, together; False if the address is taken."""
        ...

    def discard_pending(self, user_id: str, email: str) -> bool:
        """Remove a still-pending account and its claim (False if it was confirmed meanwhile)."""
        ...

    def activate(self, user_id: str, at_ms: int) -> None: ...
    def set_password(self, user_id: str, password_hash: str) -> None: ...
    def change_email(self, user_id: str, old: str, new: str, at_ms: int) -> bool:
        """Move the account (and its claim) to ``new``; False if ``new`` is taken."""
        ...


class AttemptCounter(Protocol):
    def count(self, counter: str) -> int: ...
    def increment(self, counter: str, expires_at_s: int) -> int: ...


class IdentityProvider(Protocol):
    """Who holds the password and checks the codes: the local issuer, or Cognito."""

    def register(self, user_id: str, email: str, name: str, password: str) -> str:
        """Register the account; the provider's id for the user."""
        ...

    def send_first(self, user_id: str, email: str) -> CodeSent | None:
        """Once the account is stored: send its first code (None: the provider sent it on ``register``)."""
        ...

    def confirm(self, user_id: str, email: str, code: str) -> None: ...
    def resend(self, user_id: str, email: str) -> CodeSent | None: ...
    def forgot(self, user_id: str, email: str) -> None: ...
    def reset(self, user_id: str, email: str, code: str, new_password: str) -> None: ...
    def email_changed(self, user_id: str, old: str, new: str) -> None: ...
    def password_ok(self, found: Credentials, password: str) -> bool:
        """Whether ``password`` is the account's (asked again before an e-mail change or a deletion)."""
        ...


class LocalIdentity:
    """The development issuer's side: codes from ``CodeBook`` (hashed, e-mailed), passwords in the store."""

    def __init__(self, store: AccountStore, codes: CodeBook) -> None:
        self._store, self._codes = store, codes

    def register(self, user_id: str, email: str, name: str, password: str) -> str:
        return user_id  # the code goes out once the account is stored (send_first)

    def send_first(self, user_id: str, email: str) -> CodeSent:
        return self._codes.send(Purpose.SIGNUP, user_id, email)

    def confirm(self, user_id: str, email: str, code: str) -> None:
        self._codes.redeem(Purpose.SIGNUP, user_id, code)

    def resend(self, user_id: str, email: str) -> CodeSent | None:
        return self._codes.send(Purpose.SIGNUP, user_id, email)

    def forgot(self, user_id: str, email: str) -> None:
        self._codes.send(Purpose.RESET, user_id, email)

    def reset(self, user_id: str, email: str, code: str, new_password: str) -> None:
        self._codes.redeem(Purpose.RESET, user_id, code)
        self._store.set_password(user_id, hash_password(new_password))

    def email_changed(self, user_id: str, old: str, new: str) -> None:
        return None  # the users table is the local directory

    def password_ok(self, found: Credentials, password: str) -> bool:
        return verify_password(password, found.password_hash)


class SessionEnder(Protocol):
    def end_all(self, user_id: str) -> int: ...


class SecondFactor(Protocol):
    def check(self, found: Credentials, code: str | None) -> bool:
        """True if the account needs no second factor, or ``code`` is a fresh one."""
        ...


class SignedUp(Frozen):
    user_id: str
    email: str
    code_expires_ms: int | None  # None: the provider (Cognito) keeps the expiry


class AccountService:
    def __init__(
        self,
        store: AccountStore,
        identity: IdentityProvider,
        codes: CodeBook,
        attempts: AttemptCounter,
        clock: Clock,
        free_plan: str = "starter",
        sessions: SessionEnder | None = None,
        second_factor: SecondFactor | None = None,
    ) -> None:
        self._store, self._identity, self._codes = store, identity, codes
        self._attempts, self._clock, self._free_plan = attempts, clock, free_plan
        self._sessions, self._second_factor = sessions, second_factor

    # --- sign-up -----------------------------------------------------------------------------------------
    def sign_up(self, name: str, email: str, password: str) -> SignedUp:
        email = normal_email(email)
        if not EMAIL.match(email):
            raise Invalid("email: not an e-mail address")
        check_password("password", password)
        now = self._clock.now_ms()
        existing = self._store.credentials(email)
        if existing is not None:
            stale = existing.pending and now - existing.created_ms >= PENDING_HOLD_MS
            if not (stale and self._store.discard_pending(existing.user.user_id, email)):
                raise Conflict(
                    "email: an account with this e-mail exists; sign in with POST /auth/token, finish signing "
                    "up with POST /auth/confirm (POST /auth/resend sends a new code), or reset the password "
                    "with POST /auth/password/forgot"
                )
        user_id = self._identity.register(f"usr_{secrets.token_hex(8)}", email, name, password)
        user = User(
            user_id=user_id,
            email=email,
            name=name.strip(),
            tenant_id=f"tnt_{secrets.token_hex(8)}",  # a person who signs up is their own tenant
            roles=frozenset({Role.TRADER}),
            plan_id=self._free_plan,
        )
        # the local store keeps the hash (the development issuer checks it); with Cognito it is never used
        if not self._store.create_pending(user, hash_password(password), now):
            raise Conflict("email: an account with this e-mail exists (it was taken a moment ago)")
        sent = self._identity.send_first(user_id, email)
        return SignedUp(user_id=user_id, email=email, code_expires_ms=sent.expires_ms if sent else None)

    def confirm(self, email: str, code: str) -> User:
        found = self._store.credentials(normal_email(email))
        if found is None or not found.pending:
            # the same answer for no account and a confirmed one: nothing is waiting either way
            raise Invalid("code: no code is waiting for this e-mail; sign up with POST /auth/signup")
        self._identity.confirm(found.user.user_id, found.user.email, code)
        self._store.activate(found.user.user_id, self._clock.now_ms())
        return found.user

    def resend(self, email: str) -> None:
        found = self._store.credentials(normal_email(email))
        if found is not None and found.pending:
            self._identity.resend(found.user.user_id, found.user.email)

    # --- sign-in -----------------------------------------------------------------------------------------
    def sign_in(self, email: str, password: str, totp: str | None = None) -> Credentials:
        """The account, if the password is right, it is confirmed, and (MFA on) ``totp`` is a fresh code.
        Wrong TOTP codes count with wrong passwords towards the lock."""
        email = normal_email(email)
        now_s = self._clock.now_ms() // 1000
        window = now_s - now_s % SIGNIN_WINDOW_S
        counter = f"signin#{email}#{window}"
        if self._attempts.count(counter) >= SIGNIN_FAILURES:
            reset = window + SIGNIN_WINDOW_S
            raise RateLimited(
                f"too many wrong passwords for this e-mail; try again in {reset - now_s} s or reset the password "
                "with POST /auth/password/forgot",
                SIGNIN_FAILURES,
                reset,
                reset - now_s,
            )
        found = self._store.credentials(email)
        if found is None or not verify_password(password, found.password_hash):
            self._attempts.increment(counter, window + SIGNIN_WINDOW_S)
            raise Unauthorized("wrong e-mail or password")
        if found.pending:
            raise Unauthorized(
                "confirm your e-mail first: POST /auth/confirm with the code we sent (POST /auth/resend sends "
                "a new one)"
            )
        if self._second_factor is not None and not self._second_factor.check(found, totp):
            if totp:
                self._attempts.increment(counter, window + SIGNIN_WINDOW_S)
                raise Unauthorized("totp: not the code your authenticator shows now (or it was used already)")
            raise Unauthorized("totp: two-factor is on: send the 6-digit code from your authenticator app")
        return found

    # --- password reset ----------------------------------------------------------------------------------
    def forgot(self, email: str) -> None:
        """Sends a code if a confirmed account has this e-mail; the caller answers 202 either way."""
        found = self._store.credentials(normal_email(email))
        if found is not None and not found.pending:
            try:
                self._identity.forgot(found.user.user_id, found.user.email)
            except RateLimited:
                return None  # a 429 here would tell a stranger the account exists

    def reset(self, email: str, code: str, new_password: str) -> None:
        check_password("new_password", new_password)
        found = self._store.credentials(normal_email(email))
        if found is None or found.pending:
            raise Invalid("code: no code is waiting; ask for one with POST /auth/password/forgot")
        self._identity.reset(found.user.user_id, found.user.email, code, new_password)
        if self._sessions is not None:
            self._sessions.end_all(found.user.user_id)  # whoever knew the old password is signed out

    def confirm_password(self, user: User, password: str) -> Credentials:
        """The signed-in user's account, if ``password`` is theirs (the provider checks: Cognito in the cloud)."""
        found = self._store.credentials_of(user.user_id)
        if found is None or not self._identity.password_ok(found, password):
            raise Unauthorized("password: wrong password")
        return found

    def created_ms(self, user: User) -> int | None:
        found = self._store.credentials_of(user.user_id)
        return found.created_ms if found else None

    # --- e-mail change -----------------------------------------------------------------------------------
    def request_email_change(self, user: User, new_email: str, password: str) -> CodeSent:
        new = normal_email(new_email)
        if not EMAIL.match(new):
            raise Invalid("new_email: not an e-mail address")
        found = self.confirm_password(user, password)
        if new == found.user.email:
            raise Invalid("new_email: this is already your e-mail")
        if self._store.credentials(new) is not None:
            raise Conflict("new_email: another account uses this e-mail")
        return self._codes.send(Purpose.EMAIL, user.user_id, new)

    def confirm_email_change(self, user: User, code: str) -> str:
        record = self._codes.redeem(Purpose.EMAIL, user.user_id, code)
        if self._store.credentials(record.email) is not None or not self._store.change_email(
            user.user_id, user.email, record.email, self._clock.now_ms()
        ):
            raise Conflict("new_email: another account took this e-mail meanwhile")
        self._identity.email_changed(user.user_id, user.email, record.email)
        return record.email
