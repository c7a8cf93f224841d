"""In-memory fakes of the Protocols in ``mantra.ports`` (and a few helpers) for the core unit tests.

Each fake keeps the same contract as its DynamoDB counterpart: conditional writes return False instead of
overwriting, lists come back in the order the store would give them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import timebase
from mantra.clock import IST
from mantra.domain import (
    Alert,
    AlertCondition,
    AlertStatus,
    Candle,
    Channel,
    FeedStatus,
    Instrument,
    Notification,
    Plan,
    Preferences,
    Quote,
    Role,
    Tick,
    User,
)


def ist_ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ms: int = 0) -> int:
    """Epoch milliseconds UTC of a wall-clock time in IST."""
    return int(datetime(y, mo, d, h, mi, s, tzinfo=IST).timestamp() * 1000) + ms


# Monday 23 Nov 2026, 10:00 IST: inside the NSE session.
SESSION_10AM = timebase.SESSION_10AM  # a Monday in a full trading week after the test moment


def make_tick(
    symbol: str = "RELIANCE",
    seq: int = 1,
    ts_ms: int = SESSION_10AM,
    ltp: int = 128_540,
    qty: int = 10,
    volume: int | None = None,
    tick_id: str | None = None,
    **extra: Any,
) -> Tick:
    return Tick(
        tick_id=tick_id or f"{symbol}-{seq}",
        seq=seq,
        symbol=symbol,
        token=f"tok-{symbol}",
        ts_ms=ts_ms,
        ltp_paise=ltp,
        last_qty=qty,
        volume=volume if volume is not None else seq * qty,
        **extra,
    )


def make_user(
    user_id: str = "usr_a", tenant_id: str = "ten_a", plan_id: str = "pro", email: str | None = None
) -> User:
    return User(
        user_id=user_id,
        email=email or f"{user_id}@example.in",
        name=f"User {user_id}",
        tenant_id=tenant_id,
        roles=frozenset({Role.TRADER}),
        plan_id=plan_id,
    )


def make_alert(
    alert_id: str = "alr_1",
    symbol: str = "RELIANCE",
    condition: AlertCondition = AlertCondition.CROSSES_ABOVE,
    level: int = 130_000,
    tenant_id: str = "ten_a",
    user_id: str = "usr_a",
    channels: tuple[Channel, ...] = (Channel.IN_APP,),
    status: AlertStatus = AlertStatus.ACTIVE,
) -> Alert:
    return Alert(
        tenant_id=tenant_id,
        alert_id=alert_id,
        user_id=user_id,
        symbol=symbol,
        condition=condition,
        level_paise=level,
        channels=channels,
        note=None,
        status=status,
        created_ms=SESSION_10AM - 60_000,
    )


def make_instrument(symbol: str = "RELIANCE", tick: int = 10) -> Instrument:
    return Instrument(
        symbol=symbol,
        token=f"tok-{symbol}",
        exchange="NSE",
        name=f"{symbol} Ltd",
        instrument_type="EQ",
        tick_size_paise=tick,
    )


# what the alert rules in these tests use (a plan without one of them is refused: see the catalog walk)
ALERT_FEATURES = ("alerts", "realtime_alerts", "sms_alerts", "option_analytics", "webhooks")


def make_plan(plan_id: str = "pro", alerts: int = 2, features: tuple[str, ...] = ALERT_FEATURES) -> Plan:
    return Plan(
        plan_id=plan_id,
        name=plan_id.title(),
        catalog="retail",
        currency="INR",
        price_minor=49_900,
        interval="month",
        rank=1,
        limits={"alerts": alerts},
        features=features,
    )


class InMemoryInstruments:
    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self.items = {i.symbol: i for i in instruments}

    def get(self, symbol: str) -> Instrument | None:
        return self.items.get(symbol)

    def search(self, query: str = "", exchange: str | None = None, limit: int = 50) -> list[Instrument]:
        q = query.upper()
        out = [
            i
            for i in self.items.values()
            if (not exchange or i.exchange == exchange) and (q in i.symbol or q in i.name.upper())
        ]
        return sorted(out, key=lambda i: i.symbol)[:limit]

    def put_many(self, instruments: Iterable[Instrument]) -> int:
        n = 0
        for i in instruments:
            self.items[i.symbol] = i
            n += 1
        return n


class InMemoryQuotes:
    """``apply`` is conditional on the stored sequence number, like the DynamoDB transaction."""

    def __init__(self, quotes: Iterable[Quote] = ()) -> None:
        self.items = {q.symbol: q for q in quotes}
        self.candles: dict[tuple[str, str, int], Candle] = {}
        self.applied: list[tuple[Quote, int | None, list[Candle]]] = []
        self._lock = threading.Lock()

    def get(self, symbol: str) -> Quote | None:
        return self.items.get(symbol)

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {s: self.items[s] for s in set(symbols) if s in self.items}

    def put_many(self, quotes: Iterable[Quote]) -> None:
        for q in quotes:
            self.items[q.symbol] = q

    def all(self) -> list[Quote]:
        return list(self.items.values())

    def apply_group(self, writes) -> bool:  # type: ignore[no-untyped-def]
        """Like one DynamoDB transaction, through ``apply`` (so tests that intercept it see grouped writes too).
        A conflict stops the group; the processor then redoes its instruments from a fresh read."""
        return all(self.apply(quote, prev_seq, candles) for quote, prev_seq, candles in writes)

    def apply(self, quote: Quote, prev_seq: int | None, candles: Iterable[Candle]) -> bool:
        with self._lock:
            current = self.items.get(quote.symbol)
            if (current.seq if current else None) != prev_seq:
                return False
            self.items[quote.symbol] = quote
            written = list(candles)
            for c in written:
                self.candles[(c.symbol, c.timeframe, c.start_ms)] = c
            self.applied.append((quote, prev_seq, written))
            return True


class InMemoryCandles:
    """Reads the candles an ``InMemoryQuotes.apply`` wrote (they share one dict, as they share one table)."""

    def __init__(self, store: dict[tuple[str, str, int], Candle] | None = None) -> None:
        self.items: dict[tuple[str, str, int], Candle] = {} if store is None else store
        self.range_calls: list[tuple[str, str, int, int, int]] = []

    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        return {k: self.items[k] for k in keys if k in self.items}

    def put_many(self, candles: Iterable[Candle]) -> None:
        for c in candles:
            self.items[(c.symbol, c.timeframe, c.start_ms)] = c

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        self.range_calls.append((symbol, timeframe, start_ms, end_ms, limit))
        rows = [
            c
            for (s, tf, st), c in sorted(self.items.items())
            if s == symbol and tf == timeframe and start_ms <= st <= end_ms
        ]
        return rows[:limit]

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        rows = [
            c
            for (s, tf, st), c in sorted(self.items.items())
            if s == symbol and tf == timeframe and st <= end_ms
        ]
        return rows[-limit:]


@dataclass
class InMemoryAlerts:
    items: dict[tuple[str, str], Alert] = field(default_factory=dict)
    outbox: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)

    def create(self, alert: Alert) -> None:
        key = (alert.tenant_id, alert.alert_id)
        if key in self.items:
            raise ValueError("alert exists")
        self.items[key] = alert

    def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        return self.items.get((tenant_id, alert_id))

    def list(self, tenant_id: str) -> list[Alert]:
        return [a for (t, _), a in sorted(self.items.items()) if t == tenant_id]

    def count_active(self, tenant_id: str) -> int:
        return sum(1 for a in self.list(tenant_id) if a.status is AlertStatus.ACTIVE)

    def pause_for_plan(self, alert: Alert) -> bool:
        key = (alert.tenant_id, alert.alert_id)
        current = self.items.get(key)
        if current is None or current.status is not AlertStatus.ACTIVE:
            return False
        self.items[key] = current.model_copy(update={"status": AlertStatus.PAUSED, "paused_by_plan": True})
        return True

    def resume_for_plan(self, alert: Alert) -> bool:
        key = (alert.tenant_id, alert.alert_id)
        current = self.items.get(key)
        if current is None or current.status is not AlertStatus.PAUSED or not current.paused_by_plan:
            return False
        self.items[key] = current.model_copy(update={"status": AlertStatus.ACTIVE, "paused_by_plan": False})
        return True

    def delete(self, tenant_id: str, alert_id: str) -> bool:
        return self.items.pop((tenant_id, alert_id), None) is not None

    def active_for_symbols(self, symbols: Iterable[str]) -> dict[str, list[Alert]]:
        wanted = set(symbols)
        out: dict[str, list[Alert]] = {}
        for a in self.items.values():
            if a.symbol in wanted and a.status is AlertStatus.ACTIVE:
                out.setdefault(a.symbol, []).append(a)
        return out

    def trigger(
        self, alert: Alert, trigger_id: str, at_ms: int, detail_type: str, detail: dict[str, object]
    ) -> bool:
        key = (alert.tenant_id, alert.alert_id)
        current = self.items.get(key)
        if current is None or current.status is not AlertStatus.ACTIVE or trigger_id in self.outbox:
            return False
        if current.recurring:
            if current.triggered_ms is not None and current.triggered_ms > at_ms - current.cooldown_s * 1000:
                return False  # still cooling down
            update: dict[str, object] = {"triggered_ms": at_ms, "trigger_id": trigger_id}
        else:
            update = {"status": AlertStatus.TRIGGERED, "triggered_ms": at_ms, "trigger_id": trigger_id}
        update["trigger_count"] = current.trigger_count + 1
        self.items[key] = current.model_copy(update=update)
        self.outbox[trigger_id] = (detail_type, detail)
        return True

    def update(self, alert: Alert) -> bool:
        key = (alert.tenant_id, alert.alert_id)
        if key not in self.items:
            return False
        self.items[key] = alert
        return True


class InMemoryNotifications:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Notification] = {}
        self.outcomes: dict[str, dict[str, str]] = {}

    def put_if_absent(self, notification: Notification, ttl_days: int = 90) -> bool:
        n = notification
        key = (n.tenant_id, n.user_id, n.notification_id)
        if key in self.items:
            return False
        self.items[key] = n
        return True

    def list(self, tenant_id: str, user_id: str, unread_only: bool, limit: int) -> list[Notification]:
        rows = [
            n
            for (t, u, _), n in self.items.items()
            if t == tenant_id and u == user_id and not (unread_only and n.read)
        ]
        return sorted(rows, key=lambda n: n.created_ms, reverse=True)[:limit]

    def deliveries(self, notification: Notification) -> dict[str, str]:
        return dict(self.outcomes.get(notification.notification_id, {}))

    def record_delivery(self, notification: Notification, channel: str, outcome: str) -> None:
        self.outcomes.setdefault(notification.notification_id, {})[channel] = outcome

    def mark_read(self, tenant_id: str, user_id: str, notification_id: str) -> bool:
        key = (tenant_id, user_id, notification_id)
        if key not in self.items:
            return False
        self.items[key] = self.items[key].model_copy(update={"read": True})
        return True


class InMemoryOutbox:
    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, object], int]] = {}

    def put_if_absent(self, event_id: str, detail_type: str, detail: dict[str, object], at_ms: int) -> bool:
        if event_id in self.items:
            return False
        self.items[event_id] = (detail_type, detail, at_ms)
        return True


class InMemoryOutboxMarks:
    """The publish marks on outbox rows; ``fail`` makes marking raise (the row stays unmarked)."""

    def __init__(self, fail: bool = False) -> None:
        self.marks: dict[str, int] = {}
        self.fail = fail

    def mark_published(self, event_ids: Sequence[str], at_ms: int) -> None:
        if self.fail:
            raise ConnectionResetError("dynamodb unreachable")
        self.marks.update(dict.fromkeys(event_ids, at_ms))

    def published(self, event_ids: Sequence[str]) -> set[str]:
        return {e for e in event_ids if e in self.marks}


class InMemoryUsers:
    def __init__(self) -> None:
        self.items: dict[str, tuple[User, str]] = {}
        self.prefs: dict[str, Preferences] = {}

    def get(self, user_id: str) -> User | None:
        found = self.items.get(user_id)
        return found[0] if found else None

    def by_email(self, email: str) -> tuple[User, str] | None:
        wanted = email.strip().lower()
        return next((row for row in self.items.values() if row[0].email.lower() == wanted), None)

    def put(self, user: User, password_hash: str, at_ms: int) -> None:
        self.items[user.user_id] = (user, password_hash)

    def profile(self, user_id: str) -> tuple[User, Preferences] | None:
        user = self.get(user_id)
        return None if user is None else (user, self.preferences(user_id))

    def preferences(self, user_id: str) -> Preferences:
        return self.prefs.get(user_id, Preferences())

    def save_preferences(self, user_id: str, preferences: Preferences) -> None:
        self.prefs[user_id] = preferences


class InMemoryPlans:
    def __init__(self, plans: Iterable[Plan] = ()) -> None:
        self.items = {p.plan_id: p for p in plans}

    def get(self, plan_id: str) -> Plan | None:
        return self.items.get(plan_id)

    def all(self) -> list[Plan]:
        return list(self.items.values())

    def put_many(self, plans: Iterable[Plan]) -> None:
        for p in plans:
            self.items[p.plan_id] = p


class InMemoryFeedStatus:
    def __init__(self) -> None:
        self.items: dict[str, FeedStatus] = {}
        self.beats: list[FeedStatus] = []

    def heartbeat(self, status: FeedStatus) -> None:
        self.items[status.feed_id] = status
        self.beats.append(status)

    def get(self, feed_id: str) -> FeedStatus | None:
        return self.items.get(feed_id)


class RecordingTickPublisher:
    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[list[Tick]] = []
        self.fail_times = fail_times

    def publish(self, ticks: Sequence[Tick]) -> int:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("kinesis unreachable")
        self.batches.append(list(ticks))
        return len(ticks)


class RecordingEventPublisher:
    def __init__(self, refuse: Iterable[str] = (), down: bool = False) -> None:
        self.refuse = set(refuse)
        self.down = down
        self.calls: list[list[tuple[str, str, dict[str, object]]]] = []

    def publish(self, events: Sequence[tuple[str, str, dict[str, object]]]) -> list[str]:
        if self.down:
            raise ConnectionRefusedError("events endpoint unreachable")
        self.calls.append(list(events))
        return [e[0] for e in events if e[0] in self.refuse]


class RecordingEmail:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, str, dict[str, str]]] = []
        self.html: list[str | None] = []
        self.fail = fail

    def send(
        self, to: str, subject: str, text: str, headers: dict[str, str], html: str | None = None
    ) -> None:
        if self.fail:
            raise ConnectionRefusedError("smtp down")
        self.sent.append((to, subject, text, headers))
        self.html.append(html)
