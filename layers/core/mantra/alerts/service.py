"""Alert rules owned by a tenant: create, list, read, change, delete, within the plan's limit."""

from __future__ import annotations

import secrets
from typing import Protocol

from pydantic import BaseModel

from mantra.billing.plans import require_feature
from mantra.clock import Clock
from mantra.domain import (
    CHANGE_CONDITIONS,
    OPTION_CONDITIONS,
    PRICE_CONDITIONS,
    SCHEDULED_CONDITIONS,
    Alert,
    AlertCondition,
    AlertStatus,
    Channel,
    Preferences,
    User,
)
from mantra.errors import Invalid, LimitExceeded, NotFound
from mantra.ports import AlertRepository, InstrumentRepository, PlanRepository, UserRepository


class RuleSpec(BaseModel):
    """A rule as the API hands it over (prices already in paise)."""

    symbol: str
    condition: AlertCondition
    level_paise: int = 0
    threshold_bps: int | None = None
    window: str | None = None
    lookback: int | None = None
    channels: tuple[Channel, ...] = (Channel.IN_APP,)
    note: str | None = None
    recurring: bool = False
    cooldown_s: int = 0
    expires_ms: int | None = None
    market_hours_only: bool = False
    expression: str | None = None
    timeframe: str | None = None
    scanner_id: str | None = None


class RuleCompiler(Protocol):
    """The scanner language, checked within the user's plan (expression and pattern rules)."""

    def compile_for(self, user: User, expression: str, timeframe: str) -> object: ...
    def get(self, user: User, scanner_id: str) -> object: ...


OPTION_FIELDS = {
    AlertCondition.PCR_ABOVE: "pcr",
    AlertCondition.PCR_BELOW: "pcr",
    AlertCondition.IV_ABOVE: "iv_pct",
    AlertCondition.IV_BELOW: "iv_pct",
    AlertCondition.OI_CHANGE_ABOVE: "oi_change_pct",
}


# rules the tick stream checks on every tick (the "real-time alerts" a plan sells); the others run on the
# scheduled scans (expression, pattern, scanner hits) or with the option chains
REALTIME_CONDITIONS = PRICE_CONDITIONS | CHANGE_CONDITIONS | {AlertCondition.VOLUME_SPIKE}
# what a rule may use only on a plan with the feature
CHANNEL_FEATURES = {Channel.SMS: "sms_alerts", Channel.WEBHOOK: "webhooks"}


def rule_features(rule: RuleSpec) -> list[str]:
    """The plan features a rule needs: its condition's, then its channels'."""
    needs = []
    if rule.condition in REALTIME_CONDITIONS:
        needs.append("realtime_alerts")
    if rule.condition in OPTION_CONDITIONS:
        needs.append("option_analytics")
    needs += [CHANNEL_FEATURES[c] for c in rule.channels if c in CHANNEL_FEATURES]
    return needs


class ChainIndex(Protocol):
    """Which underlyings have option chains (option-chain rules are written on an underlying or a contract)."""

    def expiries(self, underlying: str) -> list[str]: ...


def check_rule(rule: RuleSpec) -> None:
    """What each condition needs; the message names the field the caller must fix."""
    if rule.condition in PRICE_CONDITIONS and rule.level_paise <= 0:
        raise Invalid(f"price: required for {rule.condition.value}")
    if rule.condition in CHANGE_CONDITIONS:
        if not rule.threshold_bps or rule.threshold_bps <= 0:
            raise Invalid(f"change_pct: required (and positive) for {rule.condition.value}")
        if rule.window not in ("1d", "session"):
            raise Invalid("window: use 1d (change from the previous close) or session (from today's open)")
    if rule.condition is AlertCondition.VOLUME_SPIKE and (
        not rule.threshold_bps or rule.threshold_bps <= 100
    ):
        raise Invalid("volume_multiple: required for volume_spike, and above 1 (e.g. 3 for 3x the average)")
    if rule.condition in SCHEDULED_CONDITIONS and not rule.expression:
        field = "pattern" if rule.condition is AlertCondition.PATTERN else "expression"
        raise Invalid(f"{field}: required for {rule.condition.value}")
    if rule.condition in OPTION_CONDITIONS and (not rule.threshold_bps or rule.threshold_bps <= 0):
        field = OPTION_FIELDS[rule.condition]
        raise Invalid(f"{field}: required (and positive) for {rule.condition.value}")
    if rule.condition is AlertCondition.SCANNER_HIT and not rule.scanner_id:
        raise Invalid("scanner_id: required for scanner_hit (one of your saved scanners)")
    if rule.recurring and rule.cooldown_s < 60:
        raise Invalid("cooldown_minutes: a recurring alert needs a cooldown of at least 1 minute")


class AlertService:
    def __init__(
        self,
        alerts: AlertRepository,
        instruments: InstrumentRepository,
        plans: PlanRepository,
        clock: Clock,
        users: UserRepository | None = None,
        rules: RuleCompiler | None = None,
        chains: ChainIndex | None = None,
    ) -> None:
        self._alerts, self._instruments, self._plans, self._clock = alerts, instruments, plans, clock
        self._users, self._rules, self._chains = users, rules, chains

    def create(
        self,
        user: User,
        symbol: str,
        condition: AlertCondition,
        level_paise: int,
        channels: tuple[Channel, ...],
        note: str | None,
        **options: object,
    ) -> Alert:
        rule = RuleSpec(
            symbol=symbol,
            condition=condition,
            level_paise=level_paise,
            channels=channels,
            note=note,
            **options,
        )
        return self.create_rule(user, rule)

    def create_rule(self, user: User, rule: RuleSpec) -> Alert:
        check_rule(rule)
        self._check_features(user, rule)
        self._check_scanner_language(user, rule)
        any_symbol = rule.condition is AlertCondition.SCANNER_HIT and rule.symbol == "*"
        underlying = rule.condition in OPTION_CONDITIONS and self._is_underlying(rule.symbol)
        if rule.condition in (AlertCondition.PCR_ABOVE, AlertCondition.PCR_BELOW) and not underlying:
            raise Invalid(f"symbol: {rule.symbol!r} has no option chain; use an underlying such as NIFTY")
        if not any_symbol and not underlying and self._instruments.get(rule.symbol) is None:
            raise Invalid(f"symbol: unknown instrument {rule.symbol!r}; search GET /api/instruments?q=")
        self._check_limit(user)
        alert = Alert(
            tenant_id=user.tenant_id,
            alert_id="alr_" + secrets.token_hex(8),
            user_id=user.user_id,
            status=AlertStatus.ACTIVE,
            created_ms=self._clock.now_ms(),
            **rule.model_dump(),
        )
        self._alerts.create(alert)
        return alert

    def update(self, user: User, alert_id: str, changes: dict[str, object]) -> Alert:
        current = self.get(user, alert_id)
        if "status" in changes:
            wanted = AlertStatus(str(changes["status"]))
            if wanted is AlertStatus.TRIGGERED:
                raise Invalid("status: set active or paused; triggered is the platform's to set")
            if wanted is AlertStatus.ACTIVE and current.status is not AlertStatus.ACTIVE:
                self._check_limit(user)
        # validated, unlike model_copy; the user's own status choice ends a pause made by the plan's limit
        merged = Alert.model_validate({**current.model_dump(), **changes, "paused_by_plan": False})
        rule = RuleSpec(**merged.model_dump(include=set(RuleSpec.model_fields)))
        check_rule(rule)
        if merged.status is AlertStatus.ACTIVE:  # pausing, or editing a paused rule, is always allowed
            self._check_features(user, rule)
        self._check_scanner_language(user, rule)
        if not self._alerts.update(merged):
            raise NotFound(f"alert {alert_id} not found")
        return merged

    def _is_underlying(self, symbol: str) -> bool:
        return self._chains is not None and bool(self._chains.expiries(symbol))

    def _check_scanner_language(self, user: User, rule: RuleSpec) -> None:
        if self._rules is None:
            return
        if rule.condition in SCHEDULED_CONDITIONS and rule.expression:
            field = "pattern" if rule.condition is AlertCondition.PATTERN else "expression"
            try:
                self._rules.compile_for(user, rule.expression, rule.timeframe or "1d")
            except Invalid as exc:
                raise Invalid(f"{field}: {exc.message}") from None
            except LimitExceeded as exc:
                raise LimitExceeded(f"{field}: {exc.message}") from None
        if rule.condition is AlertCondition.SCANNER_HIT and rule.scanner_id:
            try:
                self._rules.get(user, rule.scanner_id)
            except NotFound:
                raise Invalid(f"scanner_id: no saved scanner {rule.scanner_id!r} of yours") from None

    def _check_features(self, user: User, rule: RuleSpec) -> None:
        """403 naming the plan that unlocks what the rule needs (the catalog is read only to say which).
        A plan missing from the catalog allows no alerts at all: the limit check says so."""
        plan = self._plans.get(user.plan_id)
        missing = [f for f in rule_features(rule) if plan is not None and f not in plan.features]
        if plan is not None and missing:
            require_feature(plan, self._plans.all(), missing[0])

    def _check_limit(self, user: User) -> None:
        plan = self._plans.get(user.plan_id)
        limit = plan.limits.get("alerts", 0) if plan else 0
        if self._alerts.count_active(user.tenant_id) >= limit:
            raise LimitExceeded(
                f"your {plan.name if plan else user.plan_id} plan allows {limit} active alerts; "
                "delete or pause one, or upgrade for more"
            )

    def list(self, user: User) -> list[Alert]:
        return self._alerts.list(user.tenant_id)

    def get(self, user: User, alert_id: str) -> Alert:
        alert = self._alerts.get(user.tenant_id, alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id} not found")
        return alert

    def delete(self, user: User, alert_id: str) -> None:
        if not self._alerts.delete(user.tenant_id, alert_id):
            raise NotFound(f"alert {alert_id} not found")

    # preferences live with the user
    def preferences(self, user: User) -> Preferences:
        assert self._users is not None
        return self._users.preferences(user.user_id)

    def save_preferences(self, user: User, prefs: Preferences) -> Preferences:
        assert self._users is not None
        self._users.save_preferences(user.user_id, prefs)
        return prefs
