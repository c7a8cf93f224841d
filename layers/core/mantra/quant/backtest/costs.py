"""Transaction costs: a fractional commission (to compare with other engines) and the Indian cost model.

A cost model answers one question: given a fill (side, quantity, price), how many rupees of charges does it
cost on top of the traded value?  Charges are always >= 0 and are paid from cash.

The Indian model follows an NSE/BSE contract note: brokerage (flat per order or a % of turnover with a cap),
STT, exchange transaction charges, SEBI turnover fee, stamp duty (buy side) and GST on brokerage + exchange
charges + SEBI fee.  The rates are data (``mantra/data/costs_india.json``); nothing is rounded inside the
simulation (a contract note rounds STT and stamp duty to the rupee per order; the difference is < Rs 1/order).

Slippage moves the fill price against the trader by a number of ticks or basis points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

Segment = Literal["equity_delivery", "equity_intraday", "futures", "options"]
SEGMENTS: tuple[str, ...] = ("equity_delivery", "equity_intraday", "futures", "options")


class CostModel(Protocol):
    """Charges in rupees for one fill; ``side`` is +1 for a buy, -1 for a sell; ``qty`` > 0."""

    def charges(self, side: int, qty: float, price: float) -> float: ...

    @property
    def linear_rate(self) -> float | None:
        """The rate r when charges == r * qty * price for both sides (fast path), else None."""
        ...


@dataclass(frozen=True)
class FractionalCommission:
    """``rate`` x traded value on each side (0.002 = 0.2 % per side), like backtesting.py's ``commission``."""

    rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate < 0.2:
            raise ValueError(f"commission must be in [0, 0.2) as a fraction (0.002 = 0.2%), got {self.rate}")

    def charges(self, side: int, qty: float, price: float) -> float:
        return self.rate * qty * price

    @property
    def linear_rate(self) -> float | None:
        return self.rate


@dataclass(frozen=True)
class Brokerage:
    """Broker's fee per order: ``flat`` rupees, or ``pct`` of turnover capped at ``cap`` rupees."""

    flat: float | None = None
    pct: float | None = None
    cap: float | None = None

    def fee(self, turnover: float) -> float:
        if self.flat is not None:
            return self.flat
        if self.pct is None:
            return 0.0
        fee = self.pct * turnover
        return min(fee, self.cap) if self.cap is not None else fee


@dataclass(frozen=True)
class ChargeBreakdown:
    brokerage: float
    stt: float
    exchange_txn: float
    sebi_fee: float
    stamp_duty: float
    gst: float

    @property
    def total(self) -> float:
        return self.brokerage + self.stt + self.exchange_txn + self.sebi_fee + self.stamp_duty + self.gst


@dataclass(frozen=True)
class IndianCosts:
    """Indian statutory charges for one segment, with a broker schedule (default: from the JSON file)."""

    segment: str = "equity_delivery"
    exchange: Literal["NSE", "BSE"] = "NSE"
    stt_buy: float = 0.0
    stt_sell: float = 0.0
    exchange_txn: float = 0.0
    stamp_duty_buy: float = 0.0
    sebi_fee: float = 0.0
    gst_rate: float = 0.18
    brokerage: Brokerage = field(default_factory=Brokerage)

    def breakdown(self, side: int, qty: float, price: float) -> ChargeBreakdown:
        turnover = abs(qty) * price
        brok = self.brokerage.fee(turnover) if turnover > 0 else 0.0
        stt = (self.stt_buy if side > 0 else self.stt_sell) * turnover
        exch = self.exchange_txn * turnover
        sebi = self.sebi_fee * turnover
        stamp = self.stamp_duty_buy * turnover if side > 0 else 0.0
        gst = self.gst_rate * (brok + exch + sebi)
        return ChargeBreakdown(brok, stt, exch, sebi, stamp, gst)

    def charges(self, side: int, qty: float, price: float) -> float:
        return self.breakdown(side, qty, price).total

    @property
    def linear_rate(self) -> float | None:
        return None


@lru_cache(maxsize=1)
def _rates() -> dict[str, Any]:
    text = resources.files("mantra").joinpath("data", "costs_india.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def india_rates_as_of() -> str:
    return str(_rates()["as_of"])


def indian_costs(
    segment: str = "equity_delivery",
    exchange: Literal["NSE", "BSE"] = "NSE",
    brokerage: Brokerage | None = None,
) -> IndianCosts:
    """The Indian cost model for ``segment`` with the shipped rates; ``brokerage`` overrides the broker's."""
    rates = _rates()
    if segment not in rates["segments"]:
        raise ValueError(f"unknown segment {segment!r}; expected one of {', '.join(SEGMENTS)}")
    seg = rates["segments"][segment]
    b = seg["brokerage"]
    return IndianCosts(
        segment=segment,
        exchange=exchange,
        stt_buy=float(seg["stt_buy"]),
        stt_sell=float(seg["stt_sell"]),
        exchange_txn=float(seg["exchange_txn"][exchange]),
        stamp_duty_buy=float(seg["stamp_duty_buy"]),
        sebi_fee=float(rates["sebi_fee_per_crore"]) / 1e7,
        gst_rate=float(rates["gst_rate"]),
        brokerage=brokerage or Brokerage(flat=b["flat"], pct=b["pct"], cap=b["cap"]),
    )


def costs_for_segment(model: CostModel, segment: str) -> CostModel:
    """The configured cost model applied to instruments of another ``segment`` (an option strategy's legs,
    a covered call's shares).

    The Indian model takes that segment's statutory rates (options: STT on the sold premium, exchange
    charges on premium turnover, ...) on the configured exchange; a broker schedule the user set (one that
    differs from the configured segment's default) is kept, else the new segment's default schedule
    applies.  Any other model (a fractional commission, no costs) is applied as it is, on the traded value
    (premium x quantity for options)."""
    if not isinstance(model, IndianCosts) or model.segment == segment:
        return model
    default = indian_costs(model.segment, model.exchange).brokerage
    brokerage = model.brokerage if model.brokerage != default else None
    return indian_costs(segment, model.exchange, brokerage)


@dataclass(frozen=True)
class Slippage:
    """Adverse price move per fill: ``ticks`` x ``tick_size`` and/or ``bps`` basis points of the price."""

    ticks: float = 0.0
    tick_size: float = 0.05
    bps: float = 0.0

    def __post_init__(self) -> None:
        if self.ticks < 0 or self.bps < 0 or self.tick_size <= 0:
            raise ValueError("slippage ticks and bps must be >= 0 and tick_size > 0")

    @property
    def is_zero(self) -> bool:
        return self.ticks == 0 and self.bps == 0

    def apply(self, side: int, price: float) -> float:
        """The price a ``side`` (+1 buy / -1 sell) market or stop order fills at."""
        if self.is_zero:
            return price
        move = self.ticks * self.tick_size + price * self.bps * 1e-4
        return price + move if side > 0 else max(price - move, 0.0)


NO_SLIPPAGE = Slippage()
