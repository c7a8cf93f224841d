"""The plan catalog as entitlement checks read it: every plan, cached per process for a short while."""

from __future__ import annotations

from mantra.billing.plans import require_feature
from mantra.billing.ports import PlanSource
from mantra.clock import Clock
from mantra.domain import Plan
from mantra.errors import Forbidden

CACHE_MS = 60_000


class PlanCatalog:
    """Plans change rarely (a deploy or an admin edit): one scan a minute per process, not a read a request."""

    def __init__(self, plans: PlanSource, clock: Clock, cache_ms: int = CACHE_MS) -> None:
        self._plans, self._clock, self._cache_ms = plans, clock, cache_ms
        self._cached: dict[str, Plan] = {}
        self._loaded_ms: int | None = None

    def _fresh(self) -> dict[str, Plan]:
        now = self._clock.now_ms()
        if self._loaded_ms is None or now - self._loaded_ms >= self._cache_ms:
            self._cached = {p.plan_id: p for p in self._plans.all()}
            self._loaded_ms = now
        return self._cached

    def all(self) -> list[Plan]:
        return list(self._fresh().values())

    def get(self, plan_id: str) -> Plan:
        """The plan a user is on; a plan added since the last load is read directly."""
        plan = self._fresh().get(plan_id) or self._plans.get(plan_id)
        if plan is None:
            raise Forbidden(f"your plan {plan_id!r} is not in the plan catalog; contact support")
        return plan

    def require(self, plan: Plan, feature: str) -> None:
        """403 naming the cheapest plan of the caller's catalog that includes ``feature``."""
        require_feature(plan, self.all(), feature)
