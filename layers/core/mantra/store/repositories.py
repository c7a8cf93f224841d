"""DynamoDB repositories (PynamoDB). They map stored items to domain objects and back."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from mantra.domain import (
    Alert,
    AlertCondition,
    AlertStatus,
    Candle,
    Channel,
    ComingSoon,
    FeedStatus,
    Instrument,
    Notification,
    Plan,
    Preferences,
    Quote,
    Role,
    User,
)
from mantra.market.instruments import split_key, storage_candidates, storage_key
from mantra.store import tables
from mantra.store.models import (
    AlertItem,
    CandleItem,
    FeedStatusItem,
    InstrumentItem,
    NotificationItem,
    OutboxItem,
    PlanItem,
    QuoteItem,
    UserItem,
)

DAY_S = 86_400


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def update_if(item: Any, actions: Sequence[Action], condition: Any) -> bool:
    """One conditional UpdateItem: False when the condition does not hold (a refusal, not an error)."""
    try:
        item.update(actions=list(actions), condition=condition)
        return True
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise


def _n(value: Any) -> int:
    return int(value)


class DynamoInstrumentRepository:
    def get(self, symbol: str) -> Instrument | None:
        """By key (``BSE:RELIANCE``) or bare symbol (NSE/NFO first, then BSE/BFO; see market.instruments)."""
        for key in storage_candidates(symbol):
            try:
                return self._to_domain(InstrumentItem.get(key))
            except InstrumentItem.DoesNotExist:
                continue
        return None

    def search(self, query: str = "", exchange: str | None = None, limit: int = 50) -> list[Instrument]:
        # The master is small (thousands of rows) and cached by callers; a scan with a filter is adequate here.
        q = query.strip().upper()
        out = []
        for item in InstrumentItem.scan():
            if exchange and item.exchange != exchange.upper():
                continue
            if q and q not in item.symbol.upper() and q not in item.name.upper():
                continue
            out.append(self._to_domain(item))
        out.sort(key=lambda i: (not i.symbol.upper().startswith(q), i.symbol))
        return out[:limit]

    def all(self) -> list[Instrument]:
        """The whole master (a few thousand to ~100k rows): read once, cached in-process by the catalog."""
        return [self._to_domain(i) for i in InstrumentItem.scan()]

    def by_underlying(self, underlying: str, expiry: str | None = None) -> list[Instrument]:
        """Derivatives of one underlying (optionally one expiry) from the sparse ``by_underlying`` index."""
        cond = None if expiry is None else InstrumentItem.expiry == expiry
        return [self._to_domain(i) for i in InstrumentItem.by_underlying.query(underlying.upper(), cond)]

    def put_many(self, instruments: Iterable[Instrument]) -> int:
        n = 0
        with InstrumentItem.batch_write() as batch:
            for i in instruments:
                data = i.model_dump()
                data["broker_tokens"] = data["broker_tokens"] or None  # no empty maps
                data["symbol"] = storage_key(i)  # BSE:RELIANCE beside RELIANCE (NSE), not over it
                batch.save(InstrumentItem(**data))
                n += 1
        return n

    @staticmethod
    def _to_domain(item: InstrumentItem) -> Instrument:
        return Instrument(
            symbol=split_key(item.symbol)[1],
            token=item.token,
            exchange=item.exchange,
            name=item.name,
            instrument_type=item.instrument_type,
            lot_size=_n(item.lot_size),
            tick_size_paise=_n(item.tick_size_paise),
            isin=item.isin,
            underlying=item.underlying,
            expiry=item.expiry,
            strike_paise=None if item.strike_paise is None else _n(item.strike_paise),
            broker_tokens={
                str(b): str(t)
                for b, t in (item.broker_tokens.as_dict() if item.broker_tokens else {}).items()
            },
        )


class DynamoQuoteRepository:
    def get(self, symbol: str) -> Quote | None:
        try:
            return self._to_domain(QuoteItem.get(symbol))
        except QuoteItem.DoesNotExist:
            return None

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        keys = sorted(set(symbols))
        return {item.symbol: self._to_domain(item) for item in QuoteItem.batch_get(keys)} if keys else {}

    def put_many(self, quotes: Iterable[Quote]) -> None:
        with QuoteItem.batch_write() as batch:
            for q in quotes:
                batch.save(QuoteItem(**q.model_dump()))

    def all(self) -> list[Quote]:
        return [self._to_domain(i) for i in QuoteItem.scan()]

    def apply_group(self, writes: Sequence[tuple[Quote, int | None, Sequence[Candle]]]) -> bool:
        """Several instruments' quotes and candles in one transaction (at most 100 items), all or nothing.

        Each quote keeps its own guard, so a conflict on any instrument cancels the group and the caller
        applies that group one instrument at a time; the common case costs one round-trip for many.
        """

        def write(tx: TransactWrite) -> None:
            for quote, prev_seq, candles in writes:
                tx.save(QuoteItem(**quote.model_dump()), condition=_quote_guard(quote, prev_seq))
                for c in candles:
                    data = c.model_dump(exclude={"symbol", "timeframe"})
                    tx.save(CandleItem(series=f"{c.symbol}#{c.timeframe}", **data))

        return _transact(QuoteItem, write)

    def apply(self, quote: Quote, prev_seq: int | None, candles: Iterable[Candle]) -> bool:
        """Write an instrument's new quote and its changed candles in one transaction.

        The quote carries the feed sequence number: the write only lands if nobody moved it since we read it,
        so a retried batch or a second consumer can never count the same ticks twice.
        """

        def write(tx: TransactWrite) -> None:
            tx.save(QuoteItem(**quote.model_dump()), condition=_quote_guard(quote, prev_seq))
            for c in candles:
                data = c.model_dump(exclude={"symbol", "timeframe"})
                tx.save(CandleItem(series=f"{c.symbol}#{c.timeframe}", **data))

        return _transact(QuoteItem, write)

    @staticmethod
    def _to_domain(item: QuoteItem) -> Quote:
        return Quote(
            symbol=item.symbol,
            ltp_paise=_n(item.ltp_paise),
            open_paise=_n(item.open_paise),
            high_paise=_n(item.high_paise),
            low_paise=_n(item.low_paise),
            prev_close_paise=_n(item.prev_close_paise),
            bid_paise=None if item.bid_paise is None else _n(item.bid_paise),
            ask_paise=None if item.ask_paise is None else _n(item.ask_paise),
            volume=_n(item.volume),
            tick_ts_ms=_n(item.tick_ts_ms),
            tick_id=item.tick_id,
            seq=_n(item.seq),
            session_date=item.session_date,
            oi=None if item.oi is None else _n(item.oi),
            oi_open=None if item.oi_open is None else _n(item.oi_open),
            version=_n(item.version or 0),
            seen=item.seen or "",
            high_ts_ms=_n(item.high_ts_ms or 0),
        )


def _raw_candle(symbol: str, tf: str, item: dict[str, dict[str, str]]) -> Candle:
    def n(name: str, default: int = 0) -> int:
        v = item.get(name)
        return int(v["N"]) if v is not None else default

    source = item.get("source")
    return Candle.model_construct(
        symbol=symbol,
        timeframe=tf,
        start_ms=n("start_ms"),
        open_paise=n("open_paise"),
        high_paise=n("high_paise"),
        low_paise=n("low_paise"),
        close_paise=n("close_paise"),
        volume=n("volume"),
        ticks=n("ticks"),
        first_tick_ms=n("first_tick_ms"),
        last_tick_ms=n("last_tick_ms"),
        first_seq=n("first_seq"),
        last_seq=n("last_seq"),
        late_ticks=n("late_ticks"),
        cum_volume=int(item["cum_volume"]["N"]) if "cum_volume" in item else None,
        source=source["S"] if source is not None else "live",
    )


class DynamoCandleRepository:
    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        wanted = sorted({(f"{s}#{tf}", start) for s, tf, start in keys})
        out = {}
        for item in CandleItem.batch_get(wanted):
            c = self._to_domain(item)
            out[(c.symbol, c.timeframe, c.start_ms)] = c
        return out

    def put_many(self, candles: Iterable[Candle]) -> None:
        with CandleItem.batch_write() as batch:
            for c in candles:
                data = c.model_dump(exclude={"symbol", "timeframe"})
                batch.save(CandleItem(series=f"{c.symbol}#{c.timeframe}", **data))

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        return self._query(symbol, timeframe, CandleItem.start_ms.between(start_ms, end_ms), limit, True)

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        return self._query(symbol, timeframe, CandleItem.start_ms <= end_ms, limit, False)[::-1]

    @staticmethod
    def _query(symbol: str, tf: str, condition: Condition, limit: int, forward: bool) -> list[Candle]:
        """A series read as raw items, each turned straight into a ``Candle``: a whole-market scan reads
        thousands of series, and PynamoDB's model objects plus validation were most of its time (the items
        come from our own writes, so they are valid)."""
        table = CandleItem._get_connection()
        out: list[Candle] = []
        start_key = None
        while len(out) < limit:
            page = table.query(
                f"{symbol}#{tf}",
                range_key_condition=condition,
                limit=limit - len(out),
                scan_index_forward=forward,
                exclusive_start_key=start_key,
            )
            out.extend(_raw_candle(symbol, tf, item) for item in page.get("Items", ()))
            start_key = page.get("LastEvaluatedKey")
            if start_key is None:
                break
        return out

    @staticmethod
    def _to_domain(item: CandleItem) -> Candle:
        symbol, tf = item.series.rsplit("#", 1)
        return Candle(
            symbol=symbol,
            timeframe=tf,
            start_ms=_n(item.start_ms),
            open_paise=_n(item.open_paise),
            high_paise=_n(item.high_paise),
            low_paise=_n(item.low_paise),
            close_paise=_n(item.close_paise),
            volume=_n(item.volume),
            ticks=_n(item.ticks),
            first_tick_ms=_n(item.first_tick_ms),
            last_tick_ms=_n(item.last_tick_ms),
            first_seq=_n(item.first_seq or 0),
            last_seq=_n(item.last_seq or 0),
            late_ticks=_n(item.late_ticks or 0),
            cum_volume=None if item.cum_volume is None else _n(item.cum_volume),
            source=item.source or "live",
        )


class DynamoAlertRepository:
    def create(self, alert: Alert) -> None:
        item = AlertItem(
            tenant_id=alert.tenant_id,
            alert_id=alert.alert_id,
            user_id=alert.user_id,
            symbol=alert.symbol,
            condition=alert.condition.value,
            level_paise=alert.level_paise,
            channels=[c.value for c in alert.channels],
            note=alert.note,
            status=alert.status.value,
            created_ms=alert.created_ms,
            watch_symbol=alert.watch_key if alert.status is AlertStatus.ACTIVE else None,
            expression=alert.expression,
            timeframe=alert.timeframe,
            scanner_id=alert.scanner_id,
            threshold_bps=alert.threshold_bps,
            window=alert.window,
            lookback=alert.lookback,
            recurring=alert.recurring,
            cooldown_s=alert.cooldown_s,
            expires_ms=alert.expires_ms,
            market_hours_only=alert.market_hours_only,
            trigger_count=0,
        )
        item.save(condition=AlertItem.alert_id.does_not_exist())

    def update(self, alert: Alert) -> bool:
        """Replace a rule's settings (PATCH); the sparse index follows its status."""
        actions: list[Action] = [
            AlertItem.condition.set(alert.condition.value),
            AlertItem.level_paise.set(alert.level_paise),
            AlertItem.channels.set([c.value for c in alert.channels]),
            AlertItem.status.set(alert.status.value),
            AlertItem.recurring.set(alert.recurring),
            AlertItem.cooldown_s.set(alert.cooldown_s),
            AlertItem.market_hours_only.set(alert.market_hours_only),
        ]
        optional: list[tuple[Any, Any]] = [
            (AlertItem.note, alert.note),
            (AlertItem.threshold_bps, alert.threshold_bps),
            (AlertItem.window, alert.window),
            (AlertItem.lookback, alert.lookback),
            (AlertItem.expires_ms, alert.expires_ms),
            (AlertItem.expression, alert.expression),
            (AlertItem.timeframe, alert.timeframe),
            (AlertItem.scanner_id, alert.scanner_id),
        ]
        for attr, value in optional:
            actions.append(attr.remove() if value is None else attr.set(value))
        live = alert.status is AlertStatus.ACTIVE
        actions.append(
            AlertItem.watch_symbol.set(alert.watch_key) if live else AlertItem.watch_symbol.remove()
        )
        actions.append(AlertItem.paused_by_plan.remove())  # the user's own choice of status from now on
        return update_if(_alert_key(alert), actions, AlertItem.alert_id.exists())

    def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        try:
            return self._to_domain(AlertItem.get(tenant_id, alert_id))
        except AlertItem.DoesNotExist:
            return None

    def list(self, tenant_id: str) -> list[Alert]:
        return [self._to_domain(i) for i in AlertItem.query(tenant_id)]

    def count_active(self, tenant_id: str) -> int:
        return AlertItem.count(tenant_id, filter_condition=AlertItem.status == AlertStatus.ACTIVE.value)

    def pause_for_plan(self, alert: Alert) -> bool:
        return update_if(
            _alert_key(alert),
            [
                AlertItem.status.set(AlertStatus.PAUSED.value),
                AlertItem.watch_symbol.remove(),
                AlertItem.paused_by_plan.set(True),
            ],
            AlertItem.status == AlertStatus.ACTIVE.value,
        )

    def resume_for_plan(self, alert: Alert) -> bool:
        return update_if(
            _alert_key(alert),
            [
                AlertItem.status.set(AlertStatus.ACTIVE.value),
                AlertItem.watch_symbol.set(alert.watch_key),
                AlertItem.paused_by_plan.remove(),
            ],
            (AlertItem.status == AlertStatus.PAUSED.value) & (AlertItem.paused_by_plan == True),  # noqa: E712
        )

    def delete(self, tenant_id: str, alert_id: str) -> bool:
        try:
            AlertItem(tenant_id=tenant_id, alert_id=alert_id).delete(condition=AlertItem.alert_id.exists())
            return True
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def active_for_symbols(self, symbols: Iterable[str]) -> dict[str, builtins.list[Alert]]:
        """One index query per symbol, sent concurrently: a batch touching 40 instruments waits for one."""

        def query(symbol: str) -> builtins.list[Alert]:
            return [self._to_domain(i) for i in AlertItem.active_by_symbol.query(symbol)]

        wanted = sorted(set(symbols))
        found = (
            zip(wanted, _READS.map(query, wanted), strict=True)
            if len(wanted) > 1
            else ((s, query(s)) for s in wanted)
        )
        return {symbol: alerts for symbol, alerts in found if alerts}

    def trigger(
        self, alert: Alert, trigger_id: str, at_ms: int, detail_type: str, detail: dict[str, object]
    ) -> bool:
        """Record a trigger and write its event to the outbox, atomically.

        One-shot: only the first trigger wins (a retried batch finds the alert no longer active). Recurring:
        the alert stays active and its cooldown is part of the same condition, so two consumers can never
        both fire inside it.
        """
        outbox = OutboxItem(event_id=trigger_id, detail_type=detail_type, detail=detail, created_ms=at_ms)
        outbox.expires_at = _expiry(at_ms, 7)
        active = AlertItem.status == AlertStatus.ACTIVE.value
        actions: list[Action] = [
            AlertItem.triggered_ms.set(at_ms),
            AlertItem.trigger_id.set(trigger_id),
            AlertItem.trigger_count.add(1),
        ]
        if alert.recurring:
            cooled = AlertItem.triggered_ms.does_not_exist() | (
                AlertItem.triggered_ms <= at_ms - alert.cooldown_s * 1000
            )
            condition = active & cooled
        else:
            actions += [AlertItem.status.set(AlertStatus.TRIGGERED.value), AlertItem.watch_symbol.remove()]
            condition = active

        def write(tx: TransactWrite) -> None:
            tx.update(
                AlertItem(tenant_id=alert.tenant_id, alert_id=alert.alert_id),
                actions=actions,
                condition=condition,
            )
            tx.save(outbox, condition=OutboxItem.event_id.does_not_exist())

        return _transact(AlertItem, write)

    @staticmethod
    def _to_domain(item: AlertItem) -> Alert:
        return Alert(
            tenant_id=item.tenant_id,
            alert_id=item.alert_id,
            user_id=item.user_id,
            symbol=item.symbol,
            condition=AlertCondition(item.condition),
            level_paise=_n(item.level_paise),
            channels=tuple(Channel(c) for c in item.channels),
            note=item.note,
            status=AlertStatus(item.status),
            created_ms=_n(item.created_ms),
            triggered_ms=None if item.triggered_ms is None else _n(item.triggered_ms),
            trigger_id=item.trigger_id,
            threshold_bps=None if item.threshold_bps is None else _n(item.threshold_bps),
            window=item.window,
            lookback=None if item.lookback is None else _n(item.lookback),
            recurring=bool(item.recurring),
            cooldown_s=_n(item.cooldown_s or 0),
            expires_ms=None if item.expires_ms is None else _n(item.expires_ms),
            market_hours_only=bool(item.market_hours_only),
            trigger_count=_n(item.trigger_count or 0),
            expression=item.expression,
            timeframe=item.timeframe,
            scanner_id=item.scanner_id,
            paused_by_plan=bool(item.paused_by_plan),
        )


class DynamoNotificationRepository:
    def put_if_absent(self, notification: Notification, ttl_days: int = 90) -> bool:
        n = notification
        item = NotificationItem(
            owner=f"{n.tenant_id}#{n.user_id}",
            sort_key=_sort_key(n),
            notification_id=n.notification_id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            data=n.data,
            read=n.read,
            created_ms=n.created_ms,
            delivered_ms=n.delivered_ms,
        )
        item.expires_at = _expiry(n.created_ms, ttl_days)
        try:
            item.save(condition=NotificationItem.sort_key.does_not_exist())
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def deliveries(self, notification: Notification) -> dict[str, str]:
        owner = f"{notification.tenant_id}#{notification.user_id}"
        try:
            item = NotificationItem.get(owner, _sort_key(notification), attributes_to_get=["deliveries"])
        except NotificationItem.DoesNotExist:
            return {}
        return {str(k): str(v) for k, v in (item.deliveries.as_dict() if item.deliveries else {}).items()}

    def record_delivery(self, notification: Notification, channel: str, outcome: str) -> None:
        """Outcomes per channel on the inbox item, so a redelivered event redoes only what failed."""
        owner = f"{notification.tenant_id}#{notification.user_id}"
        item = NotificationItem(owner=owner, sort_key=_sort_key(notification))
        try:  # one write: set this channel's entry in the existing map
            item.update(
                actions=[NotificationItem.deliveries[channel].set(outcome)],
                condition=NotificationItem.deliveries.exists(),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            item.update(actions=[NotificationItem.deliveries.set({channel: outcome})])

    def list(self, tenant_id: str, user_id: str, unread_only: bool, limit: int) -> list[Notification]:
        cond = (NotificationItem.read == False) if unread_only else None  # noqa: E712
        items = NotificationItem.query(
            f"{tenant_id}#{user_id}", filter_condition=cond, scan_index_forward=False, limit=limit
        )
        return [self._to_domain(i) for i in items]

    def mark_read(self, tenant_id: str, user_id: str, notification_id: str) -> bool:
        owner = f"{tenant_id}#{user_id}"
        for item in NotificationItem.query(
            owner, filter_condition=NotificationItem.notification_id == notification_id
        ):
            item.update(actions=[NotificationItem.read.set(True)])
            return True
        return False

    @staticmethod
    def _to_domain(item: NotificationItem) -> Notification:
        tenant_id, user_id = item.owner.split("#", 1)
        return Notification(
            notification_id=item.notification_id,
            tenant_id=tenant_id,
            user_id=user_id,
            kind=item.kind,
            title=item.title,
            body=item.body,
            data=item.data,
            read=bool(item.read),
            created_ms=_n(item.created_ms),
            delivered_ms=None if item.delivered_ms is None else _n(item.delivered_ms),
        )


class DynamoOutboxRepository:
    def put_if_absent(self, event_id: str, detail_type: str, detail: dict[str, object], at_ms: int) -> bool:
        item = OutboxItem(event_id=event_id, detail_type=detail_type, detail=detail, created_ms=at_ms)
        item.expires_at = _expiry(at_ms, 7)
        try:
            item.save(condition=OutboxItem.event_id.does_not_exist())
            return True
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def mark_published(self, event_ids: Sequence[str], at_ms: int) -> None:
        def mark(event_id: str) -> None:
            # a row gone (expired) has nothing left to mark
            update_if(
                OutboxItem(event_id=event_id),
                [OutboxItem.published_ms.set(at_ms)],
                OutboxItem.event_id.exists(),
            )

        list(_READS.map(mark, event_ids))  # side by side, and any error is raised here

    def published(self, event_ids: Sequence[str]) -> set[str]:
        # a strongly consistent read: the mark may have landed a moment before the relay looks
        found = OutboxItem.batch_get(
            set(event_ids), consistent_read=True, attributes_to_get=["event_id", "published_ms"]
        )
        return {i.event_id for i in found if i.published_ms is not None}


class DynamoUserRepository:
    def get(self, user_id: str) -> User | None:
        try:
            return self._to_domain(UserItem.get(user_id))
        except UserItem.DoesNotExist:
            return None

    def by_email(self, email: str) -> tuple[User, str] | None:
        for item in UserItem.by_email.query(email.strip().lower()):
            return self._to_domain(item), item.password_hash
        return None

    def profile(self, user_id: str) -> tuple[User, Preferences] | None:
        """The user and their delivery preferences in one read (they live on the same item)."""
        try:
            item = UserItem.get(user_id)
        except UserItem.DoesNotExist:
            return None
        return self._to_domain(item), Preferences.model_validate(item.preferences or {})

    def preferences(self, user_id: str) -> Preferences:
        try:
            item = UserItem.get(user_id, attributes_to_get=["preferences"])
        except UserItem.DoesNotExist:
            return Preferences()
        return Preferences.model_validate(item.preferences or {})

    def save_preferences(self, user_id: str, preferences: Preferences) -> None:
        UserItem(user_id=user_id).update(
            actions=[UserItem.preferences.set(preferences.model_dump(mode="json"))],
            condition=UserItem.user_id.exists(),
        )

    def put(self, user: User, password_hash: str, at_ms: int) -> None:
        UserItem(
            user_id=user.user_id,
            email=user.email.lower(),
            name=user.name,
            tenant_id=user.tenant_id,
            roles={r.value for r in user.roles},
            plan_id=user.plan_id,
            password_hash=password_hash,
            created_ms=at_ms,
        ).save()

    @staticmethod
    def _to_domain(item: UserItem) -> User:
        return User(
            user_id=item.user_id,
            email=item.email,
            name=item.name,
            tenant_id=item.tenant_id,
            roles=frozenset(Role(r) for r in item.roles),
            plan_id=item.plan_id,
            mfa_enabled=item.mfa_enabled_ms is not None,
        )


class DynamoPlanRepository:
    def get(self, plan_id: str) -> Plan | None:
        try:
            return self._to_domain(PlanItem.get(plan_id))
        except PlanItem.DoesNotExist:
            return None

    def all(self) -> list[Plan]:
        return sorted((self._to_domain(i) for i in PlanItem.scan()), key=lambda p: (p.catalog, p.rank))

    def put_many(self, plans: Iterable[Plan]) -> None:
        with PlanItem.batch_write() as batch:
            for p in plans:
                data = p.model_dump()
                data["features"] = list(p.features)
                data["coming_soon"] = p.coming_soon.model_dump(mode="json")
                batch.save(PlanItem(**data))

    @staticmethod
    def _to_domain(item: PlanItem) -> Plan:
        limits = {k: int(v) for k, v in item.limits.as_dict().items()}
        return Plan(
            plan_id=item.plan_id,
            name=item.name,
            catalog=item.catalog,
            currency=item.currency,
            price_minor=_n(item.price_minor),
            interval=item.interval,
            rank=_n(item.rank),
            limits=limits,
            features=tuple(item.features),
            trial_days=_n(item.trial_days or 0),
            stripe_price=item.stripe_price,
            profit_share_bps=_n(item.profit_share_bps or 0),
            coming_soon=ComingSoon.model_validate(item.coming_soon or {}),
        )


class DynamoFeedStatusRepository:
    def heartbeat(self, status: FeedStatus) -> None:
        FeedStatusItem(**status.model_dump()).save()

    def get(self, feed_id: str) -> FeedStatus | None:
        try:
            item = FeedStatusItem.get(feed_id)
        except FeedStatusItem.DoesNotExist:
            return None
        return FeedStatus(
            feed_id=item.feed_id,
            provider=item.provider,
            state=item.state,
            heartbeat_ms=_n(item.heartbeat_ms),
            last_tick_ms=_n(item.last_tick_ms),
            ticks_published=_n(item.ticks_published),
            instruments=_n(item.instruments),
        )


def _transact(model: type[Any], write: Callable[[TransactWrite], None]) -> bool:
    """Run one transaction; a cancelled one (a condition failed) is a refusal, not an error."""
    try:
        with TransactWrite(connection=_connection(model)) as tx:
            write(tx)
        return True
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise


def _quote_guard(quote: Quote, prev_seq: int | None) -> Any:
    """The write lands only if nobody moved the quote since we read it."""
    if prev_seq is None:
        return QuoteItem.symbol.does_not_exist()
    if quote.version > 1:  # the read saw version - 1; any writer since has moved it
        return QuoteItem.version == quote.version - 1
    return (QuoteItem.seq == prev_seq) & QuoteItem.version.does_not_exist()  # written before versions


def _sort_key(n: Notification) -> str:
    return f"{n.created_ms:013d}#{n.notification_id}"


_CONNECTIONS: dict[str, Connection] = {}
_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="reads")  # concurrent independent reads


def _alert_key(alert: Alert) -> AlertItem:
    return AlertItem(tenant_id=alert.tenant_id, alert_id=alert.alert_id)


def _connection(model: type[Any]) -> Connection:
    """One low-level connection per region for transactions (building a client costs ~100 ms)."""
    region = model.Meta.region
    if region not in _CONNECTIONS:
        _CONNECTIONS[region] = Connection(region=region, max_pool_connections=tables.POOL_CONNECTIONS)
    return _CONNECTIONS[region]


def _expiry(at_ms: int, days: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.fromtimestamp(at_ms / 1000, tz=UTC) + timedelta(days=days)
