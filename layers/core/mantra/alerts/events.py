"""The ``alert.triggered`` event detail, one shape for every rule kind."""

from __future__ import annotations

from mantra.domain import Alert
from mantra.money import to_rupees

ALERT_TRIGGERED = "alert.triggered"


def triggered_detail(
    alert: Alert,
    trigger_id: str,
    symbol: str,
    price_paise: int,
    at_ms: int,
    source_id: str,
    previous_paise: int | None = None,
    facts: dict[str, object] | None = None,
) -> dict[str, object]:
    """``source_id`` is what fired it (a tick id, a bar, a signal); ``at_ms`` when that happened."""
    return {
        "trigger_id": trigger_id,
        "tenant_id": alert.tenant_id,
        "user_id": alert.user_id,
        "alert_id": alert.alert_id,
        "symbol": symbol,
        "condition": alert.condition.value,
        "level": str(to_rupees(alert.level_paise)),
        "price": str(to_rupees(price_paise)),
        "previous_price": None if previous_paise is None else str(to_rupees(previous_paise)),
        "tick_id": source_id,
        "tick_ts_ms": at_ms,
        "channels": [c.value for c in alert.channels],
        "note": alert.note,
        "recurring": alert.recurring,
        "facts": facts or {},
    }
