"""Simulated index option chains: strikes around the money, Black-Scholes prices on a volatility smile, OI that
drifts and volume that follows the intraday profile. Pure functions and a seeded state object; no I/O."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mantra.clock import IST, ist_from_ms
from mantra.domain import Instrument

RISK_FREE = 0.065
YEAR_S = 365.0 * 24 * 3600
_MONTH_CODE = "123456789OND"  # NSE weekly symbols: 1..9, O, N, D


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def bs_price(
    call: bool, spot: float, strike: float, t_years: float, vol: float, rate: float = RISK_FREE
) -> float:
    """European Black-Scholes price; at or past expiry, the intrinsic value."""
    if t_years <= 0 or vol <= 0:
        return max(0.0, spot - strike) if call else max(0.0, strike - spot)
    sq = vol * math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * t_years) / sq
    d2 = d1 - sq
    disc = strike * math.exp(-rate * t_years)
    if call:
        return spot * norm_cdf(d1) - disc * norm_cdf(d2)
    return disc * norm_cdf(-d2) - spot * norm_cdf(-d1)


def smile_vol(atm_vol: float, spot: float, strike: float, skew: float = -0.12, curve: float = 0.9) -> float:
    """Index smile: puts below the money richer than calls above it (negative skew), wings lifted."""
    m = math.log(strike / spot)
    return max(0.03, atm_vol + skew * m + curve * m * m)


@dataclass(frozen=True)
class ChainSpec:
    underlying: str  # the option's underlying name, e.g. NIFTY
    index_symbol: str  # the simulated index it is priced from, e.g. "NIFTY 50"
    strike_step_paise: int
    lot_size: int
    atm_vol: float
    weekly: bool  # weekly (next Tuesday) or monthly (last Tuesday of the month)


# NSE: NIFTY has weekly expiries (Tuesday); BANKNIFTY only monthly ones since Nov 2024. Lots as of 2026.
CHAINS: dict[str, ChainSpec] = {
    "NIFTY": ChainSpec("NIFTY", "NIFTY 50", 5_000, 65, 0.12, weekly=True),
    "BANKNIFTY": ChainSpec("BANKNIFTY", "NIFTY BANK", 10_000, 30, 0.14, weekly=False),
}


def next_expiry(today: date, weekly: bool) -> date:
    """The nearest Tuesday expiry on or after ``today`` (weekly), or the month's last Tuesday (monthly)."""
    days = (1 - today.weekday()) % 7
    tuesday = today + timedelta(days=days)
    if weekly:
        return tuesday
    d = today
    while True:
        last = date(d.year + d.month // 12, d.month % 12 + 1, 1) - timedelta(days=1)
        last_tue = last - timedelta(days=(last.weekday() - 1) % 7)
        if last_tue >= today:
            return last_tue
        d = last + timedelta(days=1)


def option_symbol(spec: ChainSpec, expiry: date, strike_paise: int, kind: str) -> str:
    strike = strike_paise // 100
    if spec.weekly:
        return f"{spec.underlying}{expiry:%y}{_MONTH_CODE[expiry.month - 1]}{expiry:%d}{strike}{kind}"
    return f"{spec.underlying}{expiry:%y}{expiry.strftime('%b').upper()}{strike}{kind}"


def chain_instruments(spec: ChainSpec, spot_paise: int, expiry: date, width: int = 10) -> list[Instrument]:
    """CE and PE for ``width`` strikes either side of the at-the-money strike."""
    atm = round(spot_paise / spec.strike_step_paise) * spec.strike_step_paise
    out = []
    for i in range(-width, width + 1):
        strike = atm + i * spec.strike_step_paise
        for kind in ("CE", "PE"):
            out.append(
                Instrument(
                    symbol=option_symbol(spec, expiry, strike, kind),
                    token=f"{spec.underlying}-{expiry:%Y%m%d}-{strike // 100}{kind}",
                    exchange="NFO",
                    name=f"{spec.underlying} {expiry:%d %b %Y} {strike // 100} {kind}",
                    instrument_type=kind,
                    lot_size=spec.lot_size,
                    tick_size_paise=5,
                    underlying=spec.underlying,
                    expiry=expiry.isoformat(),
                    strike_paise=strike,
                )
            )
    return out


def years_to_expiry(now_ms: int, expiry: str) -> float:
    close = datetime.combine(date.fromisoformat(expiry), time(15, 30), tzinfo=IST)
    return max(0.0, (close.timestamp() * 1000 - now_ms) / 1000 / YEAR_S)


@dataclass
class OptionState:
    instrument: Instrument
    spec: ChainSpec
    oi: int
    volume: int = 0
    seq: int = 0
    open_paise: int | None = None
    prev_close_paise: int | None = None


def initial_oi(rng: random.Random, spot_paise: int, inst: Instrument, spec: ChainSpec) -> int:
    """Contracts: heaviest near the money and on round strikes, OTM puts below and OTM calls above."""
    assert inst.strike_paise is not None
    steps = (inst.strike_paise - spot_paise) / spec.strike_step_paise
    otm = steps if inst.instrument_type == "CE" else -steps
    base = 60_000 * math.exp(-((steps / 6) ** 2)) * (1.3 if otm > 0 else 0.7)
    if (inst.strike_paise // 100) % (spec.strike_step_paise // 100 * 10) == 0:
        base *= 1.8
    return max(100, int(base * rng.uniform(0.8, 1.2)))


def quote_option(state: OptionState, spot_paise: int, atm_vol: float, now_ms: int) -> tuple[int, int, int]:
    """(ltp, bid, ask) in paise on the 5-paise grid; never below one tick."""
    inst = state.instrument
    assert inst.strike_paise is not None and inst.expiry is not None
    spot, strike = spot_paise / 100, inst.strike_paise / 100
    vol = smile_vol(atm_vol, spot, strike)
    px = bs_price(inst.instrument_type == "CE", spot, strike, years_to_expiry(now_ms, inst.expiry), vol)
    step = inst.tick_size_paise
    ltp = max(step, round(px * 100 / step) * step)
    half = max(step, round(ltp * 0.0025 / step) * step)
    return ltp, max(step, ltp - half), ltp + half


def expiry_for(now_ms: int, spec: ChainSpec) -> date:
    now = ist_from_ms(now_ms)
    today = now.date()
    exp = next_expiry(today, spec.weekly)
    if exp == today and now.time() > time(15, 30):
        exp = next_expiry(today + timedelta(days=1), spec.weekly)
    return exp
