"""A day of trading as the exchange prints it, delivered the way the brokers' feeds really deliver it.

``Tape`` is the exchange's truth: per instrument, snapshots (exchange time, price, the day's cumulative traded
volume) at the brokers' cadence, with quiet spells. ``kite_dict`` / ``angel_dict`` render a snapshot as the
KiteTicker (full mode) and SmartWebSocketV2 (SNAP_QUOTE) SDKs hand it to our providers, and ``deliver`` runs
them through the providers' own ``to_tick`` with a ``Stamper`` -- a restart mid-session makes a new stamper at
the restart's wall-clock time, and a broker that re-sends a snapshot gets it stamped again, as in production.
``true_volumes`` is what the exchange says each bar traded, computed from the tape alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import timebase
from mantra.clock import ManualClock
from mantra.domain import Instrument, Tick
from mantra.feed.base import Stamper
from mantra.feed.providers import angel, kite
from mantra.market.timeframes import bucket_start_ms

# real instruments with each broker's own token (Kite instrument_token ints, Angel token strings), NSE and BSE
INSTRUMENTS: list[tuple[Instrument, int]] = [
    (Instrument(symbol=s, token=a, exchange=x, name=s, instrument_type="EQ", broker_tokens={"angel": a, "kite": k}), p)
    for s, a, k, x, p in [
        ("RELIANCE", "2885", "738561", "NSE", 128_540),
        ("INFY", "1594", "408065", "NSE", 152_010),
        ("TCS", "11536", "2953217", "NSE", 392_050),
        ("HDFCBANK", "1333", "341249", "NSE", 171_525),
        ("SBIN", "3045", "779521", "NSE", 76_890),
        ("ITC", "1660", "424961", "NSE", 46_035),
        ("BSE:RELIANCE", "500325", "128083204", "BSE", 128_545),
        ("BSE:TATASTEEL", "500470", "128145924", "BSE", 14_210),
    ]
]  # fmt: skip
EXCHANGE_TYPE = {"NSE": 1, "BSE": 3}


@dataclass(frozen=True)
class Print:
    inst: Instrument
    ts_ms: int
    price: int  # paise
    cum: int  # the day's cumulative traded volume after this print
    qty: int  # the last trade's quantity


def session_ms(day: date, hh: int, mm: int, ss: int = 0) -> int:
    return timebase.ist_ms(day, hh, mm, ss)


def tape(
    seed: int,
    day: date = timebase.SESSION_DAY,
    instruments: list[tuple[Instrument, int]] = INSTRUMENTS,
    start: tuple[int, int] = (9, 15),
    minutes: int = 40,
    every_ms: tuple[int, int] = (300, 2_500),
    totals: dict[str, int] | None = None,
) -> list[Print]:
    """Snapshots of every instrument from ``start`` for ``minutes``, in exchange time. Each instrument goes
    quiet now and then (no prints for a few minutes: a gap). ``totals`` fixes where a symbol's cumulative ends."""
    rng = random.Random(seed)
    t0 = session_ms(day, *start)
    end = t0 + minutes * 60_000
    out: list[Print] = []
    for inst, base in instruments:
        t, price, cum, steps = t0 + rng.randrange(1_000), base, 0, []
        while t < end:
            if rng.random() < 0.004:
                t += rng.randrange(60_000, 240_000)  # a quiet spell: minutes without a print
                continue
            qty = rng.choice((1, 1, 2, 5, 10, 25, 50, 100, 500))
            price = max(5, price + 5 * rng.randint(-3, 3))
            steps.append((t, price, qty))
            t += rng.randint(*every_ms)
        if totals and inst.symbol in totals:  # scale the quantities so the day ends at the report's total
            want, got = totals[inst.symbol], sum(q for _, _, q in steps)
            scaled = [max(1, q * want // got) for _, _, q in steps]
            scaled[-1] += want - sum(scaled)
            assert scaled[-1] > 0
            steps = [(t, p, q) for (t, p, _), q in zip(steps, scaled, strict=True)]
        for ts, p, q in steps:
            if ts >= end:
                break
            cum += q
            out.append(Print(inst, ts, p, cum, q))
    out.sort(key=lambda p: p.ts_ms)
    return out


def kite_dict(p: Print) -> dict[str, Any]:
    """KiteTicker's parsed full-mode tick: rupees as floats, naive local datetimes (second resolution)."""
    when = datetime.fromtimestamp(p.ts_ms // 1000)
    rupees = p.price / 100
    return {
        "tradable": True,
        "mode": "full",
        "instrument_token": int(p.inst.broker_tokens["kite"]),
        "last_price": rupees,
        "last_traded_quantity": p.qty,
        "average_traded_price": rupees,
        "volume_traded": p.cum,
        "total_buy_quantity": 1_000,
        "total_sell_quantity": 900,
        "ohlc": {"open": rupees, "high": rupees, "low": rupees, "close": rupees},
        "change": 0.0,
        "last_trade_time": when,
        "oi": 0,
        "oi_day_high": 0,
        "oi_day_low": 0,
        "exchange_timestamp": when,
        "depth": {
            "buy": [{"quantity": 10, "price": rupees - 0.05 * (i + 1), "orders": 1} for i in range(5)],
            "sell": [{"quantity": 10, "price": rupees + 0.05 * (i + 1), "orders": 1} for i in range(5)],
        },
    }


def angel_dict(p: Print, sequence_number: int) -> dict[str, Any]:
    """SmartWebSocketV2's parsed SNAP_QUOTE: paise ints, epoch-ms exchange time, token strings."""
    return {
        "subscription_mode": 3,
        "exchange_type": EXCHANGE_TYPE[p.inst.exchange],
        "token": p.inst.broker_tokens["angel"],
        "sequence_number": sequence_number,
        "exchange_timestamp": p.ts_ms,
        "last_traded_price": p.price,
        "subscription_mode_val": "SNAP_QUOTE",
        "last_traded_quantity": p.qty,
        "average_traded_price": p.price,
        "volume_trade_for_the_day": p.cum,
        "total_buy_quantity": 1_000.0,
        "total_sell_quantity": 900.0,
        "open_price_of_the_day": p.price,
        "high_price_of_the_day": p.price,
        "low_price_of_the_day": p.price,
        "closed_price": p.price,
        "last_traded_timestamp": p.ts_ms // 1000,
        "open_interest": 0,
        "open_interest_change_percentage": 0,
        "best_5_buy_data": [{"flag": 1, "quantity": 10, "price": p.price - 5 * (i + 1), "no of orders": 1} for i in range(5)],
        "best_5_sell_data": [{"flag": 0, "quantity": 10, "price": p.price + 5 * (i + 1), "no of orders": 1} for i in range(5)],
    }  # fmt: skip


def deliver(
    prints: list[Print],
    broker: str,
    restart_at_ms: int | None = None,
    resend: float = 0.0,
    seed: int = 0,
) -> list[Tick]:
    """The ticks our provider makes of the prints, in the order the broker sent them. ``restart_at_ms``: the
    feed task restarts then (a new stamper, sequences jump; prints during the 20 s outage are lost, the
    cumulative carries on). ``resend``: the share of snapshots the broker sends twice (stamped twice)."""
    rng = random.Random(seed)
    clock = ManualClock(prints[0].ts_ms if prints else 1)
    stamper = Stamper(clock)
    out: list[Tick] = []
    for n, p in enumerate(prints):
        clock.set(p.ts_ms)
        if restart_at_ms is not None and p.ts_ms >= restart_at_ms:
            if p.ts_ms < restart_at_ms + 20_000:
                continue  # the outage
            if restart_at_ms >= 0:
                clock.set(p.ts_ms + 5)
                stamper, restart_at_ms = Stamper(clock), -1
        for _ in range(2 if rng.random() < resend else 1):
            if broker == "kite":
                t = kite.to_tick(kite_dict(p), p.inst, stamper)  # whole seconds: ties go by sequence
            else:
                t = angel.to_tick(angel_dict(p, n), p.inst, stamper)
            assert t is not None
            out.append(t)
    return out


def true_volumes(prints: list[Print], tf: str, lost: set[int] | None = None) -> dict[tuple[str, int], int]:
    """What the exchange says each bar traded: the cumulative at its last print minus the one before it.
    Prints never delivered (an outage) are folded into the next delivered one, as the cumulative does."""
    out: dict[tuple[str, int], int] = {}
    last: dict[str, int] = {}
    for i, p in enumerate(prints):
        if lost and i in lost:
            continue
        key = (p.inst.symbol, bucket_start_ms(p.ts_ms, tf))
        out[key] = out.get(key, 0) + p.cum - last.get(p.inst.symbol, 0)
        last[p.inst.symbol] = p.cum
    return out


def outage(prints: list[Print], restart_at_ms: int) -> set[int]:
    return {i for i, p in enumerate(prints) if restart_at_ms <= p.ts_ms < restart_at_ms + 20_000}
