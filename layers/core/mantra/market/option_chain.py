"""Option chains: the instrument master's contracts for (underlying, expiry) + their latest quotes ->
per-strike prices, OI, IV and Greeks, and the chain's summary (ATM, PCR, max pain, skew).

Prices are integer paise here; the maths runs in rupees as float64 (``mantra.quant.options``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mantra.clock import Clock
from mantra.domain import Instrument, Quote
from mantra.errors import Invalid, NotFound
from mantra.ports import QuoteRepository
from mantra.quant.options import IVStatus, atm_index, greeks, implied_vol, max_pain, put_call_ratio, skew
from mantra.quant.options.black_scholes import years_to_expiry

# underlying (as on the contracts) -> the symbol of its spot quote; others quote under their own name
SPOT_SYMBOLS: Mapping[str, str] = {
    "NIFTY": "NIFTY 50",
    "BANKNIFTY": "NIFTY BANK",
    "FINNIFTY": "NIFTY FIN SERVICE",
    "MIDCPNIFTY": "NIFTY MID SELECT",
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class OptionContracts(Protocol):
    def contracts(self, underlying: str, expiry: str | None = None) -> list[Instrument]: ...
    def expiries(self, underlying: str) -> list[str]: ...


@dataclass(frozen=True)
class OptionLeg:
    symbol: str
    ltp_paise: int | None
    bid_paise: int | None
    ask_paise: int | None
    volume: int
    oi: int | None
    oi_change: int | None
    iv: float | None  # decimal, 0.142 = 14.2 %
    iv_status: str  # "ok" or why there is no IV: no_quote, below_intrinsic, ...
    delta: float | None
    gamma: float | None
    theta: float | None  # rupees per calendar day
    vega: float | None  # rupees per vol point


@dataclass(frozen=True)
class StrikeRow:
    strike_paise: int
    call: OptionLeg | None
    put: OptionLeg | None


@dataclass(frozen=True)
class ChainSummary:
    spot_paise: int | None
    forward: float | None  # rupees
    atm_strike_paise: int | None
    pcr_oi: float | None
    pcr_volume: float | None
    max_pain_paise: int | None
    atm_iv: float | None
    iv_put_call_atm: float | None  # put IV - call IV at the ATM strike
    rr25: float | None  # 25-delta risk reversal (call IV - put IV)
    bf25: float | None
    years_to_expiry: float
    rate: float


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    expiry: str
    as_of_ms: int
    rows: tuple[StrikeRow, ...]
    smile: tuple[float | None, ...]  # per row: the out-of-the-money side's IV
    summary: ChainSummary
    expiries: tuple[str, ...]


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class OptionChainService:
    def __init__(
        self,
        contracts: OptionContracts,
        quotes: QuoteRepository,
        clock: Clock,
        rate: float = 0.065,
        spot_symbols: Mapping[str, str] = SPOT_SYMBOLS,
    ) -> None:
        self._contracts = contracts
        self._quotes = quotes
        self._clock = clock
        self._rate = rate
        self._spot_symbols = spot_symbols

    def spot_symbol(self, underlying: str) -> str:
        return self._spot_symbols.get(underlying, underlying)

    def expiries(self, underlying: str) -> list[str]:
        return self._contracts.expiries(underlying.upper())

    def chain(self, underlying: str, expiry: str | None = None) -> OptionChain:
        u = underlying.strip().upper()
        if expiry is not None and not ISO_DATE.fullmatch(expiry):
            raise Invalid(f"expiry: {expiry!r} is not a date like 2026-11-26")
        now = self._clock.now_ms()
        listed = self._contracts.expiries(u)
        if not listed:
            raise NotFound(f"no option contracts for {u!r}")
        # a chain never offers an expiry that has passed (contracts stay in the master until they age out)
        known = [e for e in listed if years_to_expiry(e, now) > 0]
        if not known:
            raise NotFound(f"every {u} expiry in the master has passed (the last was {listed[-1]})")
        if expiry is None:
            expiry = known[0]
        elif expiry in listed and expiry not in known:
            raise NotFound(f"the {u} expiry {expiry} has passed; live expiries: {', '.join(known)}")
        contracts = [c for c in self._contracts.contracts(u, expiry) if c.strike_paise is not None]
        if not contracts:
            raise NotFound(f"no {u} contracts expire on {expiry}; known expiries: {', '.join(known)}")
        spot_sym = self.spot_symbol(u)
        quotes = self._quotes.get_many([c.symbol for c in contracts] + [spot_sym])
        return self._build(u, expiry, now, contracts, quotes, quotes.get(spot_sym), tuple(known))

    def _build(
        self,
        underlying: str,
        expiry: str,
        now: int,
        contracts: list[Instrument],
        quotes: Mapping[str, Quote],
        spot_q: Quote | None,
        known: tuple[str, ...],
    ) -> OptionChain:
        strikes = sorted({int(c.strike_paise or 0) for c in contracts})
        pos = {k: i for i, k in enumerate(strikes)}
        n = len(strikes)
        years = float(years_to_expiry(expiry, now))
        spot = None if spot_q is None else spot_q.ltp_paise / 100.0
        r = self._rate
        fwd = None if spot is None else spot * float(np.exp(r * max(years, 0.0)))
        k_rupees = np.asarray(strikes, dtype=np.float64) / 100.0

        legs: dict[str, list[OptionLeg | None]] = {"CE": [None] * n, "PE": [None] * n}
        arrays = {
            side: {
                name: np.full(n, np.nan)
                for name in ("ltp", "oi", "vol", "iv", "delta", "gamma", "theta", "vega")
            }
            for side in ("CE", "PE")
        }
        status = {side: np.full(n, -1, dtype=np.int16) for side in ("CE", "PE")}
        by_side: dict[str, list[Instrument]] = {"CE": [], "PE": []}
        for c in contracts:
            if c.instrument_type in by_side:
                by_side[c.instrument_type].append(c)
        for side, items in by_side.items():
            a = arrays[side]
            for c in items:
                i = pos[int(c.strike_paise or 0)]
                q = quotes.get(c.symbol)
                if q is not None:
                    a["ltp"][i] = q.ltp_paise / 100.0
                    a["vol"][i] = q.volume
                    a["oi"][i] = np.nan if q.oi is None else q.oi
            has = np.isfinite(a["ltp"])
            if spot is not None and has.any():
                res = implied_vol(a["ltp"][has], spot, k_rupees[has], years, r, side == "CE")
                g = greeks(spot, k_rupees[has], years, np.where(res.ok, res.iv, 0.2), r, side == "CE")
                ok = res.ok
                a["iv"][has] = res.iv
                for name in ("delta", "gamma", "theta", "vega"):
                    a[name][has] = np.where(ok, getattr(g, name), np.nan)
                status[side][has] = res.status
            for c in items:
                i = pos[int(c.strike_paise or 0)]
                q = quotes.get(c.symbol)
                st = int(status[side][i])
                reason = "no_quote" if q is None else "no_spot" if st < 0 else IVStatus(st).name.lower()
                legs[side][i] = OptionLeg(
                    symbol=c.symbol,
                    ltp_paise=None if q is None else q.ltp_paise,
                    bid_paise=None if q is None else q.bid_paise,
                    ask_paise=None if q is None else q.ask_paise,
                    volume=0 if q is None else q.volume,
                    oi=None if q is None else q.oi,
                    oi_change=None if q is None or q.oi is None or q.oi_open is None else q.oi - q.oi_open,
                    iv=_f(a["iv"][i]),
                    iv_status=reason,
                    delta=_f(a["delta"][i]),
                    gamma=_f(a["gamma"][i]),
                    theta=_f(a["theta"][i]),
                    vega=_f(a["vega"][i]),
                )
        ce, pe = arrays["CE"], arrays["PE"]
        call_oi, put_oi = np.nan_to_num(ce["oi"]), np.nan_to_num(pe["oi"])
        pain_i, _ = max_pain(k_rupees, call_oi, put_oi)
        have_oi = bool(call_oi.sum() + put_oi.sum() > 0)
        atm_i = None if fwd is None else atm_index(k_rupees, fwd)
        sk = None if fwd is None else skew(k_rupees, fwd, ce["iv"], pe["iv"], ce["delta"], pe["delta"])
        summary = ChainSummary(
            spot_paise=None if spot_q is None else spot_q.ltp_paise,
            forward=fwd,
            atm_strike_paise=None if atm_i is None else strikes[atm_i],
            pcr_oi=put_call_ratio(put_oi, call_oi),
            pcr_volume=put_call_ratio(np.nan_to_num(pe["vol"]), np.nan_to_num(ce["vol"])),
            max_pain_paise=strikes[pain_i] if have_oi else None,
            atm_iv=None if sk is None else sk.atm_iv,
            iv_put_call_atm=None if sk is None else sk.put_call_atm,
            rr25=None if sk is None else sk.rr25,
            bf25=None if sk is None else sk.bf25,
            years_to_expiry=years,
            rate=r,
        )
        rows = tuple(StrikeRow(k, legs["CE"][i], legs["PE"][i]) for i, k in enumerate(strikes))
        smile = tuple(_f(v) for v in sk.smile) if sk is not None else tuple(None for _ in strikes)
        return OptionChain(underlying, expiry, now, rows, smile, summary, known)
