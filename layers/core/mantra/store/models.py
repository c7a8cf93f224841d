"""PynamoDB models: the one declaration of every table (CDK and local tables are derived from these).

Stored items never leave this package: repositories map them to domain objects. Table names are filled in by
``tables.configure`` from settings; ``Meta.table_name`` holds the base name until then.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.attributes import TTLAttribute as _TTLAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class TTLAttribute(_TTLAttribute):
    pass


class BaseModel(Model):
    """Every table: on-demand billing; ``base_name`` is the catalog name."""

    base_name: ClassVar[str]
    tenant_scoped: ClassVar[bool] = False

    class Meta:
        abstract = True
        table_name = "unset"
        billing_mode = "PAY_PER_REQUEST"


class InstrumentUnderlyingIndex(GlobalSecondaryIndex["InstrumentItem"]):
    """Sparse: only derivatives carry ``underlying``, so a chain is one query, not a scan."""

    class Meta:
        index_name = "by_underlying"
        projection = AllProjection()

    underlying = UnicodeAttribute(hash_key=True)
    expiry = UnicodeAttribute(range_key=True)


class InstrumentItem(BaseModel):
    base_name = "instruments"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "instruments"

    symbol = UnicodeAttribute(hash_key=True)
    token = UnicodeAttribute()
    exchange = UnicodeAttribute()
    name = UnicodeAttribute()
    instrument_type = UnicodeAttribute()
    lot_size = NumberAttribute()
    tick_size_paise = NumberAttribute()
    isin = UnicodeAttribute(null=True)
    underlying = UnicodeAttribute(null=True)
    expiry = UnicodeAttribute(null=True)
    strike_paise = NumberAttribute(null=True)
    broker_tokens = MapAttribute[str, Any](null=True)
    by_underlying = InstrumentUnderlyingIndex()


class QuoteItem(BaseModel):
    base_name = "quotes"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "quotes"
        stream_view_type = "NEW_IMAGE"  # ws_push fans changes out to WebSocket subscribers

    symbol = UnicodeAttribute(hash_key=True)
    ltp_paise = NumberAttribute()
    open_paise = NumberAttribute()
    high_paise = NumberAttribute()
    low_paise = NumberAttribute()
    prev_close_paise = NumberAttribute()
    bid_paise = NumberAttribute(null=True)
    ask_paise = NumberAttribute(null=True)
    volume = NumberAttribute()
    tick_ts_ms = NumberAttribute()
    tick_id = UnicodeAttribute()
    seq = NumberAttribute()
    session_date = UnicodeAttribute()
    oi = NumberAttribute(null=True)
    oi_open = NumberAttribute(null=True)
    version = NumberAttribute(null=True)  # write counter: every write is conditional on it
    seen = UnicodeAttribute(null=True)  # applied sequences just below ``seq`` (base64 bitmap)
    high_ts_ms = NumberAttribute(null=True)  # latest exchange time applied this session


class CandleItem(BaseModel):
    base_name = "candles"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "candles"
        stream_view_type = "NEW_IMAGE"  # ws_push fans changes out to WebSocket subscribers

    series = UnicodeAttribute(hash_key=True)  # "{symbol}#{timeframe}"
    start_ms = NumberAttribute(range_key=True)
    open_paise = NumberAttribute()
    high_paise = NumberAttribute()
    low_paise = NumberAttribute()
    close_paise = NumberAttribute()
    volume = NumberAttribute()
    ticks = NumberAttribute()
    first_tick_ms = NumberAttribute()
    last_tick_ms = NumberAttribute()
    first_seq = NumberAttribute(null=True)
    last_seq = NumberAttribute(null=True)
    late_ticks = NumberAttribute(null=True)
    cum_volume = NumberAttribute(null=True)  # the session's cumulative volume through this bar (live bars)
    source = UnicodeAttribute(null=True)  # absent on bars written before sources were kept: live


class UserEmailIndex(GlobalSecondaryIndex["UserItem"]):
    class Meta:
        index_name = "by_email"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class UserTenantIndex(GlobalSecondaryIndex["UserItem"]):
    """A tenant's users: a plan change applies to all of them."""

    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class UserItem(BaseModel):
    base_name = "users"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "users"

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    roles = UnicodeSetAttribute()
    plan_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    created_ms = NumberAttribute()
    preferences = JSONAttribute(null=True)
    # accounts (mantra.auth.accounts): absent on seeded users, who are confirmed and without MFA
    status = UnicodeAttribute(null=True)  # "pending" until the e-mailed code comes back; absent = active
    confirmed_ms = NumberAttribute(null=True)
    mfa_secret = UnicodeAttribute(null=True)  # the TOTP secret in force (a TOTP check needs it in clear)
    mfa_pending_secret = UnicodeAttribute(null=True)  # enrolled, not yet proven with a code
    mfa_enabled_ms = NumberAttribute(null=True)
    mfa_last_step = NumberAttribute(null=True)  # the last TOTP time step accepted: a code works once
    by_email = UserEmailIndex()
    by_tenant = UserTenantIndex()


class PlanItem(BaseModel):
    base_name = "plans"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "plans"

    plan_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    catalog = UnicodeAttribute()
    currency = UnicodeAttribute()
    price_minor = NumberAttribute()  # paise for INR, cents for USD
    interval = UnicodeAttribute()
    rank = NumberAttribute()
    limits = MapAttribute[str, Any]()
    features = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    trial_days = NumberAttribute(null=True)
    stripe_price = UnicodeAttribute(null=True)
    profit_share_bps = NumberAttribute(null=True)
    coming_soon = JSONAttribute(null=True)  # {"features": [...], "limits": {...}}: announced, not available


class ActiveAlertIndex(GlobalSecondaryIndex["AlertItem"]):
    """Sparse: only active alerts carry ``watch_symbol``, so evaluation reads just what can fire."""

    class Meta:
        index_name = "active_by_symbol"
        projection = AllProjection()

    watch_symbol = UnicodeAttribute(hash_key=True)
    alert_id = UnicodeAttribute(range_key=True)


class AlertItem(BaseModel):
    base_name = "alerts"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "alerts"

    tenant_id = UnicodeAttribute(hash_key=True)
    alert_id = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    symbol = UnicodeAttribute()
    condition = UnicodeAttribute()
    level_paise = NumberAttribute()
    channels = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]
    note = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    created_ms = NumberAttribute()
    triggered_ms = NumberAttribute(null=True)
    trigger_id = UnicodeAttribute(null=True)
    threshold_bps = NumberAttribute(null=True)
    window = UnicodeAttribute(null=True)
    lookback = NumberAttribute(null=True)
    recurring = BooleanAttribute(default=False)
    cooldown_s = NumberAttribute(default=0)
    expires_ms = NumberAttribute(null=True)
    market_hours_only = BooleanAttribute(default=False)
    trigger_count = NumberAttribute(default=0)
    expression = UnicodeAttribute(null=True)
    timeframe = UnicodeAttribute(null=True)
    scanner_id = UnicodeAttribute(null=True)
    watch_symbol = UnicodeAttribute(null=True)
    paused_by_plan = BooleanAttribute(null=True)
    active_by_symbol = ActiveAlertIndex()


class NotificationItem(BaseModel):
    base_name = "notifications"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "notifications"
        stream_view_type = "NEW_IMAGE"  # ws_push fans changes out to WebSocket subscribers

    owner = UnicodeAttribute(hash_key=True)  # "{tenant_id}#{user_id}"
    sort_key = UnicodeAttribute(range_key=True)  # "{created_ms:013d}#{notification_id}": newest last
    notification_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    data = JSONAttribute()
    read = BooleanAttribute(default=False)
    created_ms = NumberAttribute()
    delivered_ms = NumberAttribute(null=True)
    deliveries = MapAttribute[str, Any](null=True)  # channel -> outcome, so a retry redoes only what failed
    expires_at = TTLAttribute()


class OutboxItem(BaseModel):
    """Events written in the same step as the state that caused them; the stream relays them to the bus."""

    base_name = "outbox"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "outbox"
        stream_view_type = "NEW_IMAGE"

    event_id = UnicodeAttribute(hash_key=True)
    detail_type = UnicodeAttribute()
    detail = JSONAttribute()
    created_ms = NumberAttribute()
    published_ms = NumberAttribute(null=True)  # set when the writer published it itself (see eventbus)
    expires_at = TTLAttribute()


class SignalItem(BaseModel):
    base_name = "signals"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "signals"

    scan_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)  # "{detected_ms:013d}#{symbol}"
    symbol = UnicodeAttribute()
    detected_ms = NumberAttribute()
    price_paise = NumberAttribute()
    change_bps = NumberAttribute()
    expires_at = TTLAttribute()


class FeedStatusItem(BaseModel):
    base_name = "feed_status"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "feed_status"

    feed_id = UnicodeAttribute(hash_key=True)
    provider = UnicodeAttribute()
    state = UnicodeAttribute()
    heartbeat_ms = NumberAttribute()
    last_tick_ms = NumberAttribute()
    ticks_published = NumberAttribute()
    instruments = NumberAttribute()


class BillingEventItem(BaseModel):
    """Every verified Stripe event, once per event id."""

    base_name = "billing_events"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "billing_events"

    event_id = UnicodeAttribute(hash_key=True)
    event_type = UnicodeAttribute()
    created_s = NumberAttribute()
    received_ms = NumberAttribute()
    livemode = BooleanAttribute()
    payload = JSONAttribute()
    handled = BooleanAttribute()
    expires_at = TTLAttribute()


class IdempotencyItem(BaseModel):
    """The table layout Powertools' DynamoDBPersistenceLayer expects (it writes it itself)."""

    base_name = "idempotency"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "idempotency"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


ALL_MODELS: tuple[type[BaseModel], ...] = (
    InstrumentItem,
    QuoteItem,
    CandleItem,
    UserItem,
    PlanItem,
    AlertItem,
    NotificationItem,
    OutboxItem,
    SignalItem,
    FeedStatusItem,
    BillingEventItem,
    IdempotencyItem,
)


def _extend() -> tuple[type[BaseModel], ...]:
    # Models declared in their own modules join the one list here (imported late: they import BaseModel).
    from mantra.store.access_models import ACCESS_MODELS
    from mantra.store.account_models import ACCOUNT_MODELS
    from mantra.store.backtest_models import BacktestJobItem
    from mantra.store.billing_models import BILLING_MODELS
    from mantra.store.corporate_action_models import CorporateActionItem
    from mantra.store.fo_models import FO_MODELS
    from mantra.store.history_models import HistoryLoadItem
    from mantra.store.webhook_models import WebhookDeliveryItem, WebhookEndpointItem
    from mantra.store.ws_models import WS_MODELS

    return (
        *ALL_MODELS,
        BacktestJobItem,
        WebhookEndpointItem,
        WebhookDeliveryItem,
        *WS_MODELS,
        *BILLING_MODELS,
        HistoryLoadItem,
        CorporateActionItem,
        *FO_MODELS,
        *ACCESS_MODELS,
        *ACCOUNT_MODELS,
    )


ALL_MODELS = _extend()

from mantra.store.scan_models import SCAN_MODELS  # noqa: E402 - the scanner product's tables

ALL_MODELS = (*ALL_MODELS, *SCAN_MODELS)

from mantra.store.watchlist_models import WATCHLIST_MODELS  # noqa: E402 - users' watchlists

ALL_MODELS = (*ALL_MODELS, *WATCHLIST_MODELS)

from mantra.store.chain_demand_models import CHAIN_DEMAND_MODELS  # noqa: E402 - option chains asked for

ALL_MODELS = (*ALL_MODELS, *CHAIN_DEMAND_MODELS)
