"""What a scan may cost per plan. The cost of an expression is computed by the checker (``Checked.cost``):

* every distinct indicator or pattern call costs its declared weight (2-8), every operator 1, a repeated
  sub-expression nothing (it is computed once);
* every timeframe besides the scan's own adds 10 (it is loaded and resampled);
* every 500 bars of history needed adds 1.

A plan may set ``limits["scan_cost"]``; otherwise the budget follows the plan id, and unknown plans get the
smallest budget. Every preset fits the smallest budget.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_BUDGETS: dict[str, int] = {
    "starter": 40,
    "trader": 100,
    "pro": 250,
    "elite": 600,
    "institutional": 2000,
}
SMALLEST = min(DEFAULT_BUDGETS.values())


def budget_for(plan_id: str, limits: Mapping[str, int] | None = None) -> int:
    if limits and "scan_cost" in limits:
        return int(limits["scan_cost"])
    return DEFAULT_BUDGETS.get(plan_id, SMALLEST)
