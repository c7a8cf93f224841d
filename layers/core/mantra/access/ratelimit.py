"""Per-plan rate limits: a fixed hourly window per tenant, counted atomically by a counter port.

The decision is pure (``decide``); ``RateLimiter`` adds the clock and one atomic increment per call. The
counter expires a few hours after its window (DynamoDB TTL), so the table holds only recent windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import UNLIMITED, Plan
from mantra.errors import RateLimited

LIMIT_NAME = "api_calls_per_hour"
WINDOW_S = 3600
KEEP_AFTER_WINDOW_S = 3 * 3600


class RateCounter(Protocol):
    def increment(self, counter: str, expires_at_s: int) -> int:
        """Adds one to ``counter`` atomically and returns the new count (1 for a new window)."""
        ...


@dataclass(frozen=True)
class RateDecision:
    limit: int
    count: int
    reset_s: int  # epoch seconds: the end of the window
    now_s: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after_s(self) -> int:
        return max(1, self.reset_s - self.now_s)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }


def window_start(now_s: int, window_s: int = WINDOW_S) -> int:
    return now_s - now_s % window_s


def counter_key(tenant_id: str, start_s: int) -> str:
    return f"{tenant_id}#{start_s}"


def decide(count: int, limit: int, now_s: int, window_s: int = WINDOW_S) -> RateDecision:
    """The ``count``-th call of the window that holds ``now_s`` against ``limit``."""
    return RateDecision(
        limit=limit, count=count, reset_s=window_start(now_s, window_s) + window_s, now_s=now_s
    )


class RateLimiter:
    def __init__(
        self,
        counter: RateCounter,
        clock: Clock,
        window_s: int = WINDOW_S,
        keep_after_window_s: int = KEEP_AFTER_WINDOW_S,
    ) -> None:
        self._counter, self._clock = counter, clock
        self._window_s, self._keep_s = window_s, keep_after_window_s

    def hit(self, tenant_id: str, plan: Plan) -> RateDecision | None:
        """Counts one call of the tenant against its plan's hourly limit.

        None when the plan sets no limit (no write); raises ``RateLimited`` once the window's limit is spent.
        """
        limit = plan.limit(LIMIT_NAME, UNLIMITED)
        if limit >= UNLIMITED:
            return None
        now_s = self._clock.now_ms() // 1000
        start = window_start(now_s, self._window_s)
        count = self._counter.increment(counter_key(tenant_id, start), start + self._window_s + self._keep_s)
        decision = decide(count, limit, now_s, self._window_s)
        if not decision.allowed:
            raise RateLimited(
                f"rate limit: {limit} API calls an hour on the {plan.name} plan; "
                f"the window resets in {decision.retry_after_s} s",
                limit=limit,
                reset_s=decision.reset_s,
                retry_after_s=decision.retry_after_s,
            )
        return decision
