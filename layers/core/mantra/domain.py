"""Domain objects shared across services. Stored items and API schemas map to and from these."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Instrument(Frozen):
    symbol: str
    token: str
    exchange: str
    name: str
    instrument_type: str  # EQ | INDEX | FUT | CE | PE
    lot_size: int = 1
    tick_size_paise: int = 5
    isin: str | None = None
    # derivatives (NFO/BFO): what the contract is on, when it expires, its strike
    underlying: str | None = None
    expiry: str | None = None  # ISO date, IST
    strike_paise: int | None = None
    # each broker numbers instruments its own way: {"angel": "2885", "kite": "738561"}
    broker_tokens: dict[str, str] = Field(default_factory=dict)

    def token_for(self, broker: str) -> str:
        return self.broker_tokens.get(broker, self.token)

    def own_token(self, broker: str) -> str | None:
        """This broker's own token, or None: never another broker's (``token`` is the primary's, Angel's)."""
        return self.broker_tokens.get(broker)


class Tick(Frozen):
    """One trade print from the broker feed. ``tick_id`` makes duplicates recognisable downstream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tick_id: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0, description="per-instrument sequence number assigned by the feed")
    symbol: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=32)
    ts_ms: int = Field(gt=0, description="exchange timestamp, epoch milliseconds UTC")
    ltp_paise: int = Field(gt=0)
    last_qty: int = Field(ge=0)
    volume: int = Field(ge=0, description="cumulative traded quantity for the session")
    bid_paise: int | None = Field(default=None, gt=0)
    ask_paise: int | None = Field(default=None, gt=0)
    open_paise: int | None = Field(default=None, gt=0)
    prev_close_paise: int | None = Field(default=None, gt=0)
    oi: int | None = Field(default=None, ge=0, description="open interest (derivatives), contracts")
    source: Literal["live", "demo"] = Field(
        "live", description="demo: the labelled simulated feed, whose candles never mix with market data"
    )


class Quote(Frozen):
    symbol: str
    ltp_paise: int
    open_paise: int
    high_paise: int
    low_paise: int
    prev_close_paise: int
    bid_paise: int | None
    ask_paise: int | None
    volume: int
    tick_ts_ms: int
    tick_id: str
    seq: int
    session_date: str
    oi: int | None = None
    oi_open: int | None = None  # open interest at the session's first tick: OI change = oi - oi_open
    # the latest exchange time applied this session (ticks may arrive out of time order): candles after its
    # bucket are not stored yet, so a batch that starts there needs no read of later candles
    high_ts_ms: int = 0
    # dedupe memory for ticks that arrive out of order across batches (see mantra.market.ticks)
    version: int = 0  # bumped on every write: the next write is conditional on it
    seen: str = ""  # which of the sequences just below ``seq`` were applied (encoded bitmap)


DEMO_SOURCE = "demo"  # the simulated feed's ticks and candles


class Candle(Frozen):
    symbol: str
    timeframe: str
    start_ms: int
    open_paise: int
    high_paise: int
    low_paise: int
    close_paise: int
    volume: int
    ticks: int
    first_tick_ms: int
    last_tick_ms: int
    first_seq: int = 0  # (time, seq) of the open and close ticks: ties in time resolve by sequence
    last_seq: int = 0
    late_ticks: int = 0  # ticks merged after the candle had closed (they arrived late; still counted)
    # the session's highest cumulative traded volume up to and including this bar (live bars; None on bars
    # from reports or history): volume = cum_volume - the previous bar's cum_volume (see market.candles)
    cum_volume: int | None = None
    # where the bar came from: "live" (the broker feed), "nse_eod" (the exchange's daily report),
    # "broker_history" (a broker's history API), "demo" (the labelled simulated feed)
    source: str = "live"

    @property
    def is_demo(self) -> bool:
        """A bar of the labelled simulated feed: not market data, never read by scans or backtests."""
        return self.source == DEMO_SOURCE


class Role(StrEnum):
    TRADER = "trader"
    CREATOR = "creator"
    ADMIN = "admin"
    FINANCE = "finance"


class User(Frozen):
    user_id: str
    email: str
    name: str
    tenant_id: str
    roles: frozenset[Role]
    plan_id: str
    mfa_enabled: bool = False  # TOTP is on: sign-in asks for a code, and live trading and API keys are open


UNLIMITED = 10**15  # a limit written "unlimited" in the plan catalog


def _unlimited_limits(value: dict[str, object]) -> dict[str, object]:
    return {k: UNLIMITED if v == "unlimited" else v for k, v in dict(value).items()}


class ComingSoon(Frozen):
    """What a plan announces but the platform does not have yet: shown in the catalog, never granted."""

    features: tuple[str, ...] = ()
    limits: dict[str, int] = Field(default_factory=dict)

    @field_validator("limits", mode="before")
    @classmethod
    def _unlimited(cls, value: dict[str, object]) -> dict[str, object]:
        return _unlimited_limits(value)


class Plan(Frozen):
    """One rung of a price ladder (the catalog is data: ``mantra/data/plans*.json``)."""

    plan_id: str
    name: str
    catalog: str  # "INR" | "USD": each ladder is complete on its own
    currency: str
    price_minor: int  # paise for INR, cents for USD
    interval: str
    rank: int
    limits: dict[str, int]
    features: tuple[str, ...]
    trial_days: int = 0
    stripe_price: str | None = None  # the Stripe Price lookup key; free plans have none
    profit_share_bps: int = 0  # share of profit above the high-water mark, basis points
    coming_soon: ComingSoon = Field(
        default_factory=ComingSoon,
        description="announced for this plan but not available yet: not part of what it sells today",
    )

    @field_validator("limits", mode="before")
    @classmethod
    def _unlimited(cls, value: dict[str, object]) -> dict[str, object]:
        return _unlimited_limits(value)

    @property
    def free(self) -> bool:
        return self.price_minor == 0

    def limit(self, name: str, default: int = 0) -> int:
        return self.limits.get(name, default)

    def unlimited(self, name: str) -> bool:
        return self.limits.get(name, 0) >= UNLIMITED


class AlertCondition(StrEnum):
    CROSSES_ABOVE = "crosses_above"
    CROSSES_BELOW = "crosses_below"
    ABOVE = "above"
    BELOW = "below"
    CHANGE_ABOVE = "change_pct_above"
    CHANGE_BELOW = "change_pct_below"
    VOLUME_SPIKE = "volume_spike"
    EXPRESSION = "expression"  # a scanner-language condition, checked on each scheduled scan
    PATTERN = "pattern"  # a candlestick or chart pattern, the same way
    SCANNER_HIT = "scanner_hit"  # a saved scanner's new hits
    PCR_ABOVE = "pcr_above"  # option chain put-call ratio (OI) of an underlying, e.g. NIFTY
    PCR_BELOW = "pcr_below"
    IV_ABOVE = "iv_above"  # a contract's implied volatility, or the ATM IV of an underlying (percent)
    IV_BELOW = "iv_below"
    OI_CHANGE_ABOVE = "oi_change_pct_above"  # a contract's open-interest change since the open (percent)


PRICE_CONDITIONS = frozenset(
    {AlertCondition.CROSSES_ABOVE, AlertCondition.CROSSES_BELOW, AlertCondition.ABOVE, AlertCondition.BELOW}
)
CHANGE_CONDITIONS = frozenset({AlertCondition.CHANGE_ABOVE, AlertCondition.CHANGE_BELOW})
SCHEDULED_CONDITIONS = frozenset({AlertCondition.EXPRESSION, AlertCondition.PATTERN})
OPTION_CONDITIONS = frozenset(
    {
        AlertCondition.PCR_ABOVE,
        AlertCondition.PCR_BELOW,
        AlertCondition.IV_ABOVE,
        AlertCondition.IV_BELOW,
        AlertCondition.OI_CHANGE_ABOVE,
    }
)


class AlertStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    TRIGGERED = "triggered"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    WEBHOOK = "webhook"


class Alert(Frozen):
    tenant_id: str
    alert_id: str
    user_id: str
    symbol: str
    condition: AlertCondition
    level_paise: int
    channels: tuple[Channel, ...]
    note: str | None
    status: AlertStatus
    created_ms: int
    triggered_ms: int | None = None
    trigger_id: str | None = None
    threshold_bps: int | None = None  # change rules: percent x 100; volume spike: multiple x 100
    window: str | None = None  # change rules: "1d" (vs previous close) or "session" (vs today's open)
    lookback: int | None = None  # volume spike: earlier sessions whose same minute is averaged
    recurring: bool = False
    cooldown_s: int = 0
    expires_ms: int | None = None
    market_hours_only: bool = False
    trigger_count: int = 0
    expression: str | None = None  # expression and pattern rules (patterns are stored as pattern("..."))
    timeframe: str | None = None
    scanner_id: str | None = None  # scanner_hit rules; symbol "*" means any symbol the scanner finds
    paused_by_plan: bool = False  # paused by the platform when the plan's limit fell; resumed when it rises

    @property
    def watch_key(self) -> str:
        """The key the sparse active-alerts index files this rule under: who evaluates it."""
        if self.condition in SCHEDULED_CONDITIONS:
            return f"expr:{self.timeframe}"
        if self.condition is AlertCondition.SCANNER_HIT:
            return f"scanner:{self.scanner_id}"
        if self.condition in OPTION_CONDITIONS:
            return "options"
        return self.symbol

    def live_at(self, ts_ms: int) -> bool:
        return self.status is AlertStatus.ACTIVE and (self.expires_ms is None or ts_ms < self.expires_ms)


class Notification(Frozen):
    notification_id: str
    tenant_id: str
    user_id: str
    kind: str
    title: str
    body: str
    data: dict[str, object]
    read: bool
    created_ms: int  # when what it reports happened (for alerts: the tick), which also orders the inbox
    delivered_ms: int | None = None  # when it reached the inbox


class Preferences(Frozen):
    """Per-user delivery settings. In-app always delivers; quiet hours mute the listed channels."""

    email: bool = True
    sms: bool = False
    push: bool = False
    webhook: bool = True
    phone_e164: str | None = None
    phone_verified_ms: int | None = (
        None  # when its owner proved they hold it (SMS goes only to such a number)
    )
    quiet_start: str | None = None  # "22:00" IST
    quiet_end: str | None = None  # "07:00" IST
    quiet_channels: tuple[Channel, ...] = (Channel.SMS, Channel.PUSH, Channel.EMAIL)
    push_endpoints: tuple[str, ...] = ()


class FeedStatus(Frozen):
    feed_id: str
    provider: str
    state: str
    heartbeat_ms: int
    last_tick_ms: int
    ticks_published: int
    instruments: int
