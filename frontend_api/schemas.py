"""Request and response schemas of the API (never the stored items). Examples make /docs teach."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from mantra.auth.accounts import STRENGTH_RULE
from mantra.clock import utc_from_ms
from mantra.domain import (
    OPTION_CONDITIONS,
    Alert,
    AlertCondition,
    AlertStatus,
    Candle,
    Channel,
    Instrument,
    Notification,
    Quote,
)
from mantra.market.adjustments import Factor
from mantra.money import to_paise, to_rupees
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Rupees = Annotated[Decimal, Field(description="Indian rupees, exact to the paisa", examples=["2450.35"])]


class InstrumentOut(BaseModel):
    symbol: str = Field(examples=["RELIANCE"])
    token: str = Field(examples=["2885"])
    exchange: str = Field(examples=["NSE"])
    name: str = Field(examples=["Reliance Industries Ltd"])
    instrument_type: str = Field(examples=["EQ"])
    lot_size: int
    tick_size: Rupees

    @classmethod
    def of(cls, i: Instrument) -> InstrumentOut:
        return cls(
            symbol=i.symbol,
            token=i.token,
            exchange=i.exchange,
            name=i.name,
            instrument_type=i.instrument_type,
            lot_size=i.lot_size,
            tick_size=to_rupees(i.tick_size_paise),
        )


class QuoteOut(BaseModel):
    symbol: str = Field(examples=["RELIANCE"])
    ltp: Rupees
    open: Rupees
    high: Rupees
    low: Rupees
    prev_close: Rupees
    change_pct: Decimal = Field(examples=["1.25"])
    bid: Rupees | None
    ask: Rupees | None
    volume: int
    tick_time: datetime
    session_date: str = Field(examples=["2026-11-23"], description="NSE session date (IST)")

    @classmethod
    def of(cls, q: Quote) -> QuoteOut:
        change = (Decimal(q.ltp_paise - q.prev_close_paise) * 100 / Decimal(q.prev_close_paise)).quantize(
            Decimal("0.01")
        )
        return cls(
            symbol=q.symbol,
            ltp=to_rupees(q.ltp_paise),
            open=to_rupees(q.open_paise),
            high=to_rupees(q.high_paise),
            low=to_rupees(q.low_paise),
            prev_close=to_rupees(q.prev_close_paise),
            change_pct=change,
            bid=None if q.bid_paise is None else to_rupees(q.bid_paise),
            ask=None if q.ask_paise is None else to_rupees(q.ask_paise),
            volume=q.volume,
            tick_time=utc_from_ms(q.tick_ts_ms),
            session_date=q.session_date,
        )


class CandleOut(BaseModel):
    start: datetime
    open: Rupees
    high: Rupees
    low: Rupees
    close: Rupees
    volume: int
    ticks: int
    source: str = Field(
        "live",
        description="live (the broker feed), nse_eod (the exchange's daily report), broker_history, or demo "
        "(the labelled simulated feed: never used by scans or backtests)",
        examples=["nse_eod"],
    )

    @classmethod
    def of(cls, c: Candle) -> CandleOut:
        return cls(
            start=utc_from_ms(c.start_ms),
            open=to_rupees(c.open_paise),
            high=to_rupees(c.high_paise),
            low=to_rupees(c.low_paise),
            close=to_rupees(c.close_paise),
            volume=c.volume,
            ticks=c.ticks,
            source=c.source,
        )


class ActionOut(BaseModel):
    """A corporate action the bars were adjusted for."""

    ex_date: date = Field(examples=["2025-12-19"])
    purpose: str = Field(examples=["BONUS 1:1"], description="as the exchange wrote it")
    factor: str = Field(
        examples=["2"], description="the share count was multiplied by this (exact: an integer or a/b)"
    )
    source: str = Field(examples=["bc16122025.csv"], description="the file the action was read from")

    @classmethod
    def of(cls, f: Factor) -> ActionOut:
        return cls(ex_date=f.ex_date, purpose=f.purpose, factor=str(f.ratio), source=f.source)


class CandlesOut(BaseModel):
    symbol: str
    timeframe: str
    adjusted: bool = Field(
        description="prices before each action's ex-date divided by its factor, volumes multiplied"
    )
    actions: list[ActionOut] = Field(description="the actions applied (adjusted bars only)")
    candles: list[CandleOut]


class _RuleFields(BaseModel):
    price: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=12,
        decimal_places=2,
        description="Level in rupees, for crosses_above/crosses_below/above/below (2 decimals at most)",
    )
    change_pct: Decimal | None = Field(
        default=None,
        gt=0,
        le=100,
        max_digits=5,
        decimal_places=2,
        description="For change_pct_above/below: the move in percent, e.g. 2.5",
    )
    window: Literal["1d", "session"] | None = Field(
        default=None, description="change rules: 1d = from the previous close, session = from today's open"
    )
    volume_multiple: Decimal | None = Field(
        default=None,
        gt=1,
        le=100,
        max_digits=5,
        decimal_places=2,
        description="volume_spike: this 1-minute candle's volume vs the same minute's average over the last"
        " `lookback` sessions",
    )
    lookback: int | None = Field(
        default=None,
        ge=5,
        le=60,
        description="volume_spike: earlier sessions whose bar at the same time of day is averaged (default 20)",
    )
    expression: str | None = Field(
        default=None,
        max_length=4000,
        examples=["rsi(14) < 30 and close > sma(close, 200)"],
        description="expression rules: the scanner language, checked on every scheduled scan",
    )
    pattern: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_ ]{2,60}$",
        examples=["bullish_engulfing"],
        description="pattern rules: a candlestick or chart pattern name (see GET /api/scans/presets)",
    )
    timeframe: Literal["1m", "5m", "15m", "1h", "1d"] | None = Field(
        default=None, description="expression and pattern rules: the bars they are read on (default 1d)"
    )
    scanner_id: str | None = Field(
        default=None, max_length=64, description="scanner_hit rules: one of your saved scanners"
    )
    pcr: Decimal | None = Field(
        default=None,
        gt=0,
        le=100,
        max_digits=6,
        decimal_places=2,
        examples=["1.30"],
        description="pcr_above/pcr_below: the put-call ratio (by OI) of the underlying's nearest expiry",
    )
    iv_pct: Decimal | None = Field(
        default=None,
        gt=0,
        le=500,
        max_digits=5,
        decimal_places=2,
        examples=["18.5"],
        description="iv_above/iv_below: implied volatility in percent (a contract's, or the ATM IV of an underlying)",
    )
    oi_change_pct: Decimal | None = Field(
        default=None,
        gt=0,
        le=10000,
        max_digits=7,
        decimal_places=2,
        examples=["25"],
        description="oi_change_pct_above: a contract's open-interest change since the session's first tick",
    )
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=5)
    note: str | None = Field(default=None, max_length=280)
    recurring: bool | None = Field(
        default=None,
        description="fire again after the cooldown (omitted or null: once; on a change, unchanged)",
    )
    cooldown_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    expires_at: datetime | None = Field(default=None, description="stop watching after this time")
    market_hours_only: bool | None = Field(
        default=None,
        description="only ticks in NSE's 09:15-15:30 IST session (omitted or null: all ticks; on a change, "
        "unchanged)",
    )

    @field_validator("channels")
    @classmethod
    def _unique(cls, v: list[Channel] | None) -> list[Channel] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("channels must not repeat")
        return v

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-31T15:30:00+05:30")
        return v

    def options(self) -> dict[str, object]:
        """The rule's settings in the platform's units (paise, basis points, seconds, epoch ms)."""
        out: dict[str, object] = {}
        if self.price is not None:
            out["level_paise"] = to_paise(self.price)
        if self.change_pct is not None:
            out["threshold_bps"] = int(self.change_pct * 100)
        if self.volume_multiple is not None:
            out["threshold_bps"] = int(self.volume_multiple * 100)
        for option_threshold in (self.pcr, self.iv_pct, self.oi_change_pct):
            if option_threshold is not None:
                out["threshold_bps"] = int(option_threshold * 100)
        if self.pattern is not None:
            out["expression"] = f'pattern("{self.pattern}")'
        elif self.expression is not None:
            out["expression"] = self.expression
        if self.expression is not None or self.pattern is not None:
            out.setdefault("timeframe", self.timeframe or "1d")
        for name in ("window", "lookback", "note", "timeframe", "scanner_id"):
            if name in self.model_fields_set:
                out[name] = getattr(self, name)
        for switch in ("recurring", "market_hours_only"):  # on or off: null is the same as leaving it out
            if getattr(self, switch) is not None:
                out[switch] = getattr(self, switch)
        if self.channels is not None:
            out["channels"] = tuple(self.channels)
        if self.cooldown_minutes is not None:
            out["cooldown_s"] = self.cooldown_minutes * 60
        if "expires_at" in self.model_fields_set:
            out["expires_ms"] = None if self.expires_at is None else int(self.expires_at.timestamp() * 1000)
        return out


class AlertIn(_RuleFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "symbol": "RELIANCE",
                    "condition": "crosses_above",
                    "price": "1300.00",
                    "channels": ["in_app", "email"],
                    "note": "breakout above 1300",
                },
                {
                    "symbol": "SBIN",
                    "condition": "change_pct_below",
                    "change_pct": "2.5",
                    "window": "1d",
                    "channels": ["in_app", "sms"],
                    "recurring": True,
                    "cooldown_minutes": 30,
                    "market_hours_only": True,
                },
                {
                    "symbol": "TCS",
                    "condition": "volume_spike",
                    "volume_multiple": "4",
                    "lookback": 20,
                    "channels": ["in_app", "push", "webhook"],
                },
                {
                    "symbol": "INFY",
                    "condition": "expression",
                    "timeframe": "15m",
                    "expression": "ema(close, 9) crosses above ema(close, 21) and volume > sma(volume, 20)",
                },
                {
                    "symbol": "HDFCBANK",
                    "condition": "pattern",
                    "pattern": "bullish_engulfing",
                    "timeframe": "1d",
                },
                {
                    "symbol": "*",
                    "condition": "scanner_hit",
                    "scanner_id": "scn_3f2a9c01",
                    "channels": ["in_app"],
                },
            ]
        },
    )

    symbol: str = Field(min_length=1, max_length=64)
    condition: AlertCondition

    @field_validator("symbol")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()


class AlertPatch(_RuleFields):
    """Change any setting; omitted fields stay as they are. ``status``: pause or resume."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"price": "1310.00"}, {"status": "paused"}, {"status": "active"}]},
    )

    condition: AlertCondition | None = None
    status: Literal["active", "paused"] | None = None

    def changes(self) -> dict[str, object]:
        out = self.options()
        if self.condition is not None:
            out["condition"] = self.condition
        if self.status is not None:
            out["status"] = self.status
        return out


class AlertOut(BaseModel):
    alert_id: str = Field(examples=["alr_3f2a9c01d4e5b6a7"])
    symbol: str
    condition: AlertCondition
    price: Rupees | None
    change_pct: Decimal | None
    window: str | None
    volume_multiple: Decimal | None
    option_threshold: Decimal | None = Field(
        description="option-chain rules: the PCR, IV % or OI change % they watch for", examples=["1.30"]
    )
    lookback: int | None
    expression: str | None
    timeframe: str | None
    scanner_id: str | None
    channels: list[Channel]
    note: str | None
    status: str = Field(examples=["active"], description="active, paused, triggered or expired")
    paused_by_plan: bool = Field(
        False,
        description="paused by the platform when the plan's alert limit fell; it comes back when a plan allows it",
    )
    recurring: bool
    cooldown_minutes: int
    market_hours_only: bool
    expires_at: datetime | None
    created_at: datetime
    triggered_at: datetime | None
    trigger_count: int

    @classmethod
    def of(cls, a: Alert, now_ms: int) -> AlertOut:
        volume = a.condition is AlertCondition.VOLUME_SPIKE
        threshold = None if a.threshold_bps is None else Decimal(a.threshold_bps) / 100
        option = a.condition in OPTION_CONDITIONS
        expired = a.status is AlertStatus.ACTIVE and a.expires_ms is not None and a.expires_ms <= now_ms
        return cls(
            alert_id=a.alert_id,
            symbol=a.symbol,
            condition=a.condition,
            price=to_rupees(a.level_paise) if a.level_paise else None,
            change_pct=None if volume or option else threshold,
            option_threshold=threshold if option else None,
            window=a.window,
            volume_multiple=threshold if volume else None,
            lookback=a.lookback,
            expression=a.expression,
            timeframe=a.timeframe,
            scanner_id=a.scanner_id,
            channels=list(a.channels),
            note=a.note,
            status="expired" if expired else a.status.value,
            paused_by_plan=a.paused_by_plan,
            recurring=a.recurring,
            cooldown_minutes=a.cooldown_s // 60,
            market_hours_only=a.market_hours_only,
            expires_at=None if a.expires_ms is None else utc_from_ms(a.expires_ms),
            created_at=utc_from_ms(a.created_ms),
            triggered_at=None if a.triggered_ms is None else utc_from_ms(a.triggered_ms),
            trigger_count=a.trigger_count,
        )


class PreferencesIO(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": True,
                    "sms": True,
                    "push": False,
                    "webhook": True,
                    "phone_e164": "+919876543210",
                    "quiet_start": "22:00",
                    "quiet_end": "07:00",
                    "quiet_channels": ["sms", "push"],
                }
            ]
        },
    )

    email: bool = True
    sms: bool = False
    push: bool = False
    webhook: bool = True
    phone_e164: str | None = Field(
        default=None, pattern=r"^\+[1-9]\d{7,14}$", description="E.164, e.g. +91..."
    )
    quiet_start: str | None = Field(
        default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM IST"
    )
    quiet_end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM IST")
    quiet_channels: list[Channel] = Field(default_factory=lambda: [Channel.SMS, Channel.PUSH, Channel.EMAIL])
    devices: int = Field(default=0, description="registered push devices (read-only)")
    phone_verified: bool = Field(
        default=False,
        description="read-only: SMS goes only to a verified number (POST /api/me/phone, then /verify)",
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> PreferencesIO:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end go together")
        if Channel.IN_APP in self.quiet_channels:
            raise ValueError("quiet_channels: the in-app inbox is never muted")
        return self


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_e164: str = Field(pattern=r"^\+[1-9]\d{7,14}$", description="E.164", examples=["+919876543210"])


class PhoneCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="the 6 digits sent by SMS", examples=["042917"])


class PhoneStartedOut(BaseModel):
    phone_e164: str = Field(examples=["+919876543210"])
    expires_at: datetime = Field(description="the code is valid until then")
    resend_after: datetime = Field(description="a new code can be asked for from then")


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=8, max_length=4096, description="the FCM/APNs registration token")


class DeviceOut(BaseModel):
    device_id: str


class NotificationOut(BaseModel):
    notification_id: str
    kind: str = Field(examples=["alert.triggered"])
    title: str = Field(examples=["RELIANCE crossed above ₹1300.00"])
    body: str
    data: dict[str, object]
    read: bool
    created_at: datetime = Field(description="when it happened (for alerts: the tick that fired it)")
    delivered_at: datetime | None = Field(description="when it reached your inbox")

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            notification_id=n.notification_id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            data=n.data,
            read=n.read,
            created_at=utc_from_ms(n.created_ms),
            delivered_at=None if n.delivered_ms is None else utc_from_ms(n.delivered_ms),
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    refresh_token: str | None = Field(
        None, description="POST /auth/refresh trades it for a new pair (once); POST /auth/logout ends it"
    )


class MeOut(BaseModel):
    user_id: str
    email: str
    name: str
    tenant_id: str
    roles: list[str]
    plan_id: str
    mfa_enabled: bool = Field(False, description="TOTP is on (POST /api/me/mfa/totp)")


class SignUpIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, examples=["Asha Rao"])
    email: str = Field(min_length=3, max_length=254, examples=["asha@example.in"])
    password: str = Field(
        min_length=1, max_length=128, description=STRENGTH_RULE, examples=["Nifty-50-at-Dawn"]
    )


class CodeSentOut(BaseModel):
    email: str = Field(examples=["asha@example.in"])
    expires_at: datetime | None = Field(None, description="when the e-mailed code stops working (UTC)")
    next: str = Field(examples=["POST /auth/confirm {email, code}"])


class ConfirmIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["asha@example.in"])
    code: str = Field(pattern=r"^\s*\d{6}\s*$", examples=["042917"])


class EmailIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["asha@example.in"])


class AcceptedOut(BaseModel):
    detail: str = Field(examples=["if an account has this e-mail, a code is on its way"])


class ResetIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["asha@example.in"])
    code: str = Field(pattern=r"^\s*\d{6}\s*$", examples=["042917"])
    new_password: str = Field(
        min_length=1, max_length=128, description=STRENGTH_RULE, examples=["Bank-Nifty-Dusk-9"]
    )


class EmailChangeIn(BaseModel):
    new_email: str = Field(min_length=3, max_length=254, examples=["asha.rao@example.in"])
    password: str = Field(
        min_length=1, max_length=128, description="your current password", examples=["Nifty-50-at-Dawn"]
    )


class CodeIn(BaseModel):
    code: str = Field(pattern=r"^\s*\d{6}\s*$", examples=["042917"])


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=8, max_length=200, examples=["tmr_4Jx..."])


class TotpOut(BaseModel):
    secret: str = Field(
        description="base32; enter it in an authenticator app, or scan otpauth_uri as a QR code",
        examples=["JBSWY3DPEHPK3PXP"],
    )
    otpauth_uri: str = Field(
        examples=[
            "otpauth://totp/Trade%20Mantra:asha%40example.in?secret=JBSWY3DPEHPK3PXP&issuer=Trade%20Mantra"
        ]
    )
    next: str = Field("POST /api/me/mfa/totp/verify {code}", examples=["POST /api/me/mfa/totp/verify {code}"])


class PasswordIn(BaseModel):
    password: str = Field(
        min_length=1, max_length=128, description="your current password", examples=["Nifty-50-at-Dawn"]
    )


class DeletedOut(BaseModel):
    deleted: dict[str, int] = Field(description="rows removed, by kind", examples=[{"alerts": 3, "user": 1}])
    kept: list[str] = Field(description="what is kept, and the law that requires it")
