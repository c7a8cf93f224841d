"""In-memory stand-ins for the access ports, and a container with what the access routes use."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from account_fakes import InMemoryRefreshTokens, accounts_service
from mantra.access.apikeys import ApiKey, ApiKeyService
from mantra.access.entitlements import PlanCatalog
from mantra.access.ratelimit import RateLimiter
from mantra.auth.sessions import Sessions
from mantra.billing.plans import load_catalogs
from mantra.clock import ManualClock
from mantra.domain import Plan, Role, User
from mantra.errors import NotFound


class InMemoryApiKeys:
    """Same contract as DynamoApiKeyRepository; counts writes so tests can see how cheap a call is."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], tuple[ApiKey, str]] = {}
        self.touches = 0

    def create(self, key: ApiKey, key_hash: str) -> None:
        assert (key.tenant_id, key.key_id) not in self.items
        self.items[(key.tenant_id, key.key_id)] = (key, key_hash)

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        found = self.items.get((tenant_id, key_id))
        return None if found is None else found[0]

    def list(self, tenant_id: str) -> list[ApiKey]:
        return [k for (t, _), (k, _) in self.items.items() if t == tenant_id]

    def by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        return next(((k, h) for k, h in self.items.values() if h == key_hash), None)

    def revoke(self, tenant_id: str, key_id: str, at_ms: int) -> ApiKey | None:
        found = self.items.get((tenant_id, key_id))
        if found is None:
            return None
        key, h = found
        if key.revoked_ms is None:
            key = key.model_copy(update={"revoked_ms": at_ms})
            self.items[(tenant_id, key_id)] = (key, h)
        return key

    def touch(self, tenant_id: str, key_id: str, at_ms: int, stale_before_ms: int) -> None:
        key, h = self.items[(tenant_id, key_id)]
        if key.last_used_ms is None or key.last_used_ms < stale_before_ms:
            self.items[(tenant_id, key_id)] = (key.model_copy(update={"last_used_ms": at_ms}), h)
            self.touches += 1


class InMemoryRateCounter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.expiry: dict[str, int] = {}

    def increment(self, counter: str, expires_at_s: int) -> int:
        self.counts[counter] = self.counts.get(counter, 0) + 1
        self.expiry[counter] = expires_at_s
        return self.counts[counter]


class Plans:
    def __init__(self, plans: list[Plan]) -> None:
        self.items = {p.plan_id: p for p in plans}
        self.scans = 0

    def get(self, plan_id: str) -> Plan | None:
        return self.items.get(plan_id)

    def all(self) -> list[Plan]:
        self.scans += 1
        return list(self.items.values())


class Users:
    def __init__(self, users: list[User]) -> None:
        self.items = {u.user_id: u for u in users}

    def get(self, user_id: str) -> User | None:
        return self.items.get(user_id)

    def by_email(self, email: str) -> tuple[User, str] | None:
        return None


def user(user_id: str, plan_id: str, *roles: Role, tenant_id: str | None = None, mfa: bool = True) -> User:
    """A user with two-factor on (API keys need it) unless ``mfa=False``."""
    return User(
        user_id=user_id,
        email=f"{user_id}@demo.in",
        name=user_id,
        tenant_id=tenant_id or f"ten_{user_id}",
        roles=frozenset(roles or (Role.TRADER,)),
        plan_id=plan_id,
        mfa_enabled=mfa,
    )


class Untouched:
    """A service the test does not expect to be reached: any use fails loudly."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        raise AssertionError(f"{self._name}.{attr} was used")


class NoChains:
    def chain(self, symbol: str, expiry: str | None, session: str | None = None) -> Any:
        raise NotFound(f"no option contracts for {symbol}")


class NoWebhooks:
    def list(self, user: User) -> list[Any]:
        return []


@dataclass
class AccessContainer:
    # tokens are issued at this clock and PyJWT checks expiry on the wall clock: start them equal
    clock: ManualClock = field(default_factory=lambda: ManualClock(int(time.time() * 1000)))

    def __post_init__(self) -> None:
        self.users = Users(
            [
                user("usr_starter", "starter"),
                user("usr_pro", "pro"),
                user("usr_inst", "institutional", Role.ADMIN),
                user("usr_inst2", "institutional", Role.TRADER),
                user("usr_usd", "usd_institutional"),
                user("usr_fin", "institutional", Role.FINANCE),
                user("usr_inst_nomfa", "institutional", mfa=False),
            ]
        )
        self.plans = Plans(load_catalogs())
        self.key_store = InMemoryApiKeys()
        self.counter = InMemoryRateCounter()
        self.api_keys = ApiKeyService(self.key_store, self.clock)
        self.rate_limiter = RateLimiter(self.counter, self.clock)
        self.plan_catalog = PlanCatalog(self.plans, self.clock)
        self.option_chains = NoChains()
        self.webhooks = NoWebhooks()
        self.sessions = Sessions(InMemoryRefreshTokens(), self.clock)
        self.accounts = accounts_service(self.clock, sessions=self.sessions)[0]
