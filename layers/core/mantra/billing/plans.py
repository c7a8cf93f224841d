"""The plan catalogs are data: ``mantra/data/plans.json`` (the INR ladder) and ``plans_usd.json`` (the USD ladder)."""

from __future__ import annotations

import json
from importlib import resources

from mantra.billing.features import check_sellable
from mantra.domain import Plan
from mantra.errors import Forbidden

CATALOG_FILES = ("plans.json", "plans_usd.json")


def load_catalogs(files: tuple[str, ...] = CATALOG_FILES) -> list[Plan]:
    plans: list[Plan] = []
    for name in files:
        raw = json.loads(resources.files("mantra.data").joinpath(name).read_text())
        plans += [Plan(**p) for p in raw]
    for plan in plans:
        check_sellable(plan)
    ids = [p.plan_id for p in plans]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"plan ids must be unique across catalogs: {', '.join(duplicated)}")
    return plans


def free_plan_of(plans: list[Plan], catalog: str) -> Plan:
    return min((p for p in plans if p.catalog == catalog), key=lambda p: p.rank)


def free_plan_id(plans: list[Plan], catalog: str | None, inr_free: str) -> str:
    """Where a tenant lands without a paid subscription: the configured INR free plan, or its catalog's."""
    if catalog in (None, "INR"):
        return inr_free
    return free_plan_of(plans, catalog).plan_id


def unlocking_plan(plans: list[Plan], catalog: str, feature: str) -> Plan | None:
    """The cheapest plan of the catalog that includes ``feature``."""
    having = [p for p in plans if p.catalog == catalog and feature in p.features]
    return min(having, key=lambda p: p.rank) if having else None


def _words(name: str) -> str:
    return name.replace("_", " ")


def _upgrade(what: str, unlock: Plan, plan: Plan) -> Forbidden:
    return Forbidden(
        f"{what} needs the {unlock.name} plan or higher (you are on {plan.name}); "
        f'upgrade with POST /api/billing/checkout {{"plan_id": "{unlock.plan_id}"}}'
    )


def require_feature(plan: Plan, plans: list[Plan], feature: str) -> None:
    """403 naming the plan that unlocks ``feature`` when ``plan`` lacks it (or that it is not available yet)."""
    if feature in plan.features:
        return
    unlock = unlocking_plan(plans, plan.catalog, feature)
    if unlock is None:
        announced = sorted(
            (p for p in plans if p.catalog == plan.catalog and feature in p.coming_soon.features),
            key=lambda p: p.rank,
        )
        if announced:
            raise Forbidden(
                f"{_words(feature)} is not available yet: it is coming soon "
                f"(announced for the {announced[0].name} plan and higher)"
            )
        raise Forbidden(f"{_words(feature)} is not offered on the {plan.catalog} plans")
    raise _upgrade(_words(feature), unlock, plan)
