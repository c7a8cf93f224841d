"""Request and response schemas of the API (never the stored items). Examples make /docs teach."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from mantra.clock import utc_from_ms
from mantra.domain import Alert, AlertCondition, Candle, Channel, Instrument, Notification, Quote
from mantra.money import to_rupees
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
        )


class CandlesOut(BaseModel):
    symbol: str
    timeframe: str
    candles: list[CandleOut]


class AlertIn(BaseModel):
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
                }
            ]
        },
    )

    symbol: str = Field(min_length=1, max_length=64)
    condition: AlertCondition
    price: Decimal = Field(
        gt=0, max_digits=12, decimal_places=2, description="Level in rupees (2 decimals at most)"
    )
    channels: list[Channel] = Field(default_factory=lambda: [Channel.IN_APP], min_length=1, max_length=4)
    note: str | None = Field(default=None, max_length=280)

    @field_validator("symbol")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()

    @field_validator("channels")
    @classmethod
    def _unique(cls, v: list[Channel]) -> list[Channel]:
        if len(set(v)) != len(v):
            raise ValueError("channels must not repeat")
        return v


class AlertOut(BaseModel):
    alert_id: str = Field(examples=["alr_3f2a9c01d4e5b6a7"])
    symbol: str
    condition: AlertCondition
    price: Rupees
    channels: list[Channel]
    note: str | None
    status: str = Field(examples=["active"])
    created_at: datetime
    triggered_at: datetime | None

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls(
            alert_id=a.alert_id,
            symbol=a.symbol,
            condition=a.condition,
            price=to_rupees(a.level_paise),
            channels=list(a.channels),
            note=a.note,
            status=a.status.value,
            created_at=utc_from_ms(a.created_ms),
            triggered_at=None if a.triggered_ms is None else utc_from_ms(a.triggered_ms),
        )


class NotificationOut(BaseModel):
    notification_id: str
    kind: str = Field(examples=["alert.triggered"])
    title: str = Field(examples=["RELIANCE crossed above ₹1300.00"])
    body: str
    data: dict[str, object]
    read: bool
    created_at: datetime

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
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class MeOut(BaseModel):
    user_id: str
    email: str
    name: str
    tenant_id: str
    roles: list[str]
    plan_id: str
