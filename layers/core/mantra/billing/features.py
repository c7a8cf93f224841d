"""What a plan may sell: every feature flag and limit the platform enforces, and where.

A plan in the catalog (``mantra/data/plans*.json``) may only list, under ``features`` and ``limits``, names
registered here; something announced but not built yet goes under the plan's ``coming_soon`` instead, and the
catalog shows it as such. ``load_catalogs`` refuses a catalog that sells an unregistered name, and
``tests/unit/access/test_plan_catalog_walk.py`` probes every name registered here over HTTP (a user without it
is refused, naming the plan that unlocks it; a user with it gets through). Registering a name is a promise that
it is enforced at the place written beside it.
"""

from __future__ import annotations

from mantra.domain import Plan

FEATURES: dict[str, str] = {
    "alerts": "the alerts API: /api/alerts (router dependency)",
    "realtime_alerts": "alert rules checked on every tick (price levels and crossings, % change, volume "
    "spikes): AlertService; without it, rules run on the scheduled scans (expression, pattern, scanner hits)",
    "sms_alerts": "the sms channel of an alert rule (AlertService) and phone verification (/api/me/phone)",
    "scanners": "/api/scans, /api/scanners, /api/signals (router dependency)",
    "backtests": "/api/backtests (router dependency)",
    "option_analytics": "/api/option-chain (router dependency) and option-chain alert rules (AlertService)",
    "webhooks": "/api/webhooks (router dependency) and the webhook channel of an alert rule (AlertService)",
    "api_access": "/v1 with an API key (current_user) and /api/keys (router dependency)",
}

LIMITS: dict[str, str] = {
    "alerts": "active alert rules per tenant: AlertService (create, re-activate) and plan_limits (downgrade)",
    "scanners": "saved scanners per tenant: ScanService.save",
    "instruments": "symbols in one scan's universe: ScanService",
    "scan_cost": "the cost budget of one scanner expression: ScanService (quant.scanner.cost)",
    "backtest_history_days": "how far back a backtest may start: BacktestJobs.submit",
    "concurrent_backtests": "backtests queued or running per tenant: BacktestJobs.submit",
    "api_calls_per_hour": "authenticated calls per tenant per hour: RateLimiter (429 with Retry-After)",
    "sms_per_month": "SMS alerts per tenant per IST calendar month: AlertDispatcher (over it: skipped)",
    "watchlists": "watchlists per tenant: WatchlistService.create",
    "watchlist_symbols": "symbols on one watchlist: WatchlistService (create, add)",
}


def check_sellable(plan: Plan) -> None:
    """A plan sells only what is registered; a registered name is not "coming soon" any more."""
    unknown = sorted(set(plan.features) - set(FEATURES)) + sorted(set(plan.limits) - set(LIMITS))
    if unknown:
        raise ValueError(
            f"plan {plan.plan_id} sells {', '.join(unknown)}, which nothing enforces: register it in "
            "mantra.billing.features (and probe it in the catalog walk test) or list it under coming_soon"
        )
    soon = plan.coming_soon
    stale = sorted(set(soon.features) & set(FEATURES)) + sorted(set(soon.limits) & set(LIMITS))
    if stale:
        raise ValueError(
            f"plan {plan.plan_id} lists {', '.join(stale)} as coming soon, but it is available now: "
            "move it to features or limits"
        )
