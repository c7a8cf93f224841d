"""Live option chains: the instrument master's contracts of an underlying + their latest quotes -> per-strike
prices, OI, IV and Greeks (Black-76 on the forward of each expiry), OI change and build-up against the previous
session's stored F&O report, and the chain's summary (forward, ATM, PCR by expiry, max pain, skew, IV
percentile and rank). With a session date, the chain of that session from its stored report (``past_chains``).

The types and the pricing are ``chain_model``'s (one builder for live and past chains).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Protocol

from mantra.clock import Clock, ist_from_ms
from mantra.domain import Instrument, Quote
from mantra.errors import Invalid, NotFound
from mantra.market.chain_model import (
    ChainSummary,
    ExpiryInput,
    ExpiryStats,
    FutureRow,
    LegInput,
    OptionChain,
    OptionLeg,
    StrikeRow,
    build_chains,
    choose_forward,
    quote_price,
)
from mantra.market.fo_contracts import FoContract
from mantra.market.past_chains import IV_HISTORY_MIN_DAYS, ContractKey, PastChains, summary_of
from mantra.quant.options import buildup
from mantra.quant.options.black_scholes import years_to_expiry

__all__ = [
    "SPOT_SYMBOLS",
    "ChainSummary",
    "ExpiryStats",
    "FutureRow",
    "OptionChain",
    "OptionChainService",
    "OptionContracts",
    "OptionLeg",
    "StrikeRow",
]

# underlying (as on the contracts) -> the symbol of its spot quote; others quote under their own name
SPOT_SYMBOLS: Mapping[str, str] = {
    "NIFTY": "NIFTY 50",
    "BANKNIFTY": "NIFTY BANK",
    "FINNIFTY": "NIFTY FIN SERVICE",
    "MIDCPNIFTY": "NIFTY MID SELECT",
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
OPTION_TYPES = ("CE", "PE")
MASTER_TTL_MS = 60_000  # the master changes once a day (instrument_refresh): one index query a minute


class ChainDemand(Protocol):
    """Where a request for a chain that is not streamed is recorded (``store.chain_demand_repository``)."""

    def request(self, underlying: str, now_ms: int) -> bool: ...


class ChainQuotes(Protocol):
    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]: ...


class OptionContracts(Protocol):
    def derivatives(self, underlying: str) -> list[Instrument]:
        """Every future and option of the underlying in the instrument master."""
        ...


def _key(c: Instrument) -> ContractKey:
    kind = c.instrument_type if c.instrument_type in OPTION_TYPES else None
    return (date.fromisoformat(c.expiry or "1970-01-01"), c.strike_paise if kind else None, kind)


def _oi_change(q: Quote, prev: FoContract | None) -> tuple[int | None, str | None]:
    """OI now minus the previous session's stored OI; the session's first tick's OI only without a report."""
    if q.oi is None:
        return None, None
    if prev is not None:
        return q.oi - prev.open_interest, "eod_report"
    if q.oi_open is not None:
        return q.oi - q.oi_open, "first_tick"
    return None, None


def _live_leg(c: Instrument, q: Quote | None, prev: FoContract | None) -> LegInput:
    strike, is_call = int(c.strike_paise or 0), c.instrument_type == "CE"
    prev_close = None if prev is None else prev.close_paise
    if q is None:
        return LegInput(
            c.symbol, strike, is_call, None, None, None, None, None, 0, None, None, None, prev_close, False
        )
    price, source = quote_price(q.bid_paise, q.ask_paise, q.ltp_paise)
    change, change_source = _oi_change(q, prev)
    return LegInput(
        symbol=c.symbol,
        strike_paise=strike,
        is_call=is_call,
        price_paise=price,
        price_source=source,
        ltp_paise=q.ltp_paise,
        bid_paise=q.bid_paise,
        ask_paise=q.ask_paise,
        volume=q.volume,
        oi=q.oi,
        oi_change=change,
        oi_change_source=change_source,
        prev_price_paise=prev_close if prev_close else (q.prev_close_paise or None),
    )


def _future_row(c: Instrument, q: Quote | None, prev: FoContract | None) -> FutureRow:
    prev_settle = (
        prev.settlement_paise if prev is not None else (None if q is None else q.prev_close_paise or None)
    )
    if q is None:
        return FutureRow(c.symbol, c.expiry or "", None, prev_settle, None, None, None, None, 0, None)
    change = None if prev_settle is None else q.ltp_paise - prev_settle
    oi_change, source = _oi_change(q, prev)
    return FutureRow(
        c.symbol, c.expiry or "", q.ltp_paise, prev_settle, change, q.oi, oi_change, source, q.volume,
        buildup(change, oi_change),
    )  # fmt: skip


class OptionChainService:
    def __init__(
        self,
        contracts: OptionContracts,
        quotes: ChainQuotes,
        clock: Clock,
        rate: float = 0.065,
        spot_symbols: Mapping[str, str] = SPOT_SYMBOLS,
        past: PastChains | None = None,
        summarised_expiries: int = 3,
        demand: ChainDemand | None = None,
    ) -> None:
        """``past``: the stored F&O reports (previous-session OI, IV history, past chains); without it OI
        change falls back to the session's first tick and past chains are refused.
        ``summarised_expiries``: how many of the nearest expiries ``by_expiry`` covers (PCR by expiry)."""
        self._contracts = contracts
        self._quotes = quotes
        self._clock = clock
        self._demand = demand  # a chain asked for while not streamed is subscribed on demand
        self._rate = rate
        self._spot_symbols = spot_symbols
        self._past = past
        self._n_summarised = max(1, summarised_expiries)
        self._master: dict[str, tuple[int, list[Instrument]]] = {}
        self._keys: dict[str, ContractKey] = {}  # symbol -> (expiry, strike, type), to find it in a report

    def spot_symbol(self, underlying: str) -> str:
        return self._spot_symbols.get(underlying, underlying)

    def _derivatives(self, underlying: str) -> list[Instrument]:
        now = self._clock.now_ms()
        hit = self._master.get(underlying)
        if hit is not None and 0 <= now - hit[0] < MASTER_TTL_MS:
            return hit[1]
        rows = self._contracts.derivatives(underlying)
        self._master[underlying] = (now, rows)
        self._keys.update((c.symbol, _key(c)) for c in rows if c.expiry)
        return rows

    def _no_options(self, underlying: str) -> str:
        if any(c.instrument_type == "FUT" for c in self._derivatives(underlying)):
            return f"{underlying} has futures but no option contracts in the instrument master"
        return (
            f"{underlying!r} is unknown: the instrument master lists no option contracts for it (underlyings are"
            " named as on the contracts, e.g. NIFTY, BANKNIFTY, RELIANCE)"
        )

    def expiries(self, underlying: str) -> list[str]:
        """The underlying's option expiries that have not passed (15:30 IST on the day)."""
        now = self._clock.now_ms()
        listed = {
            c.expiry for c in self._derivatives(underlying.upper()) if c.instrument_type in OPTION_TYPES
        }
        return sorted(e for e in listed if e and years_to_expiry(e, now) > 0)

    def chain(self, underlying: str, expiry: str | None = None, session: str | None = None) -> OptionChain:
        u = underlying.strip().upper()
        for name, value in (("expiry", expiry), ("date", session)):
            if value is not None and not ISO_DATE.fullmatch(value):
                raise Invalid(f"{name}: {value!r} is not a date like 2026-11-26")
        if session is not None:
            if self._past is None:
                raise NotFound("date: no F&O reports are stored here, so there are no past chains")
            return self._past.chain(u, expiry, session)
        return self._live(u, expiry)

    def _live(self, u: str, expiry: str | None) -> OptionChain:
        now = self._clock.now_ms()
        derivatives = self._derivatives(u)
        options: dict[str, list[Instrument]] = defaultdict(list)
        futures: dict[str, Instrument] = {}
        for c in derivatives:
            if not c.expiry:
                continue
            if c.instrument_type in OPTION_TYPES and c.strike_paise is not None:
                options[c.expiry].append(c)
            elif c.instrument_type == "FUT":
                futures[c.expiry] = c
        listed = sorted(options)
        if not listed:
            raise NotFound(self._no_options(u))
        # a chain never offers an expiry that has passed (contracts stay in the master until they age out)
        known = [e for e in listed if years_to_expiry(e, now) > 0]
        if not known:
            raise NotFound(f"every {u} expiry in the master has passed (the last was {listed[-1]})")
        if expiry is None:
            expiry = known[0]
        elif expiry in listed and expiry not in known:
            raise NotFound(f"the {u} expiry {expiry} has passed; live expiries: {', '.join(known)}")
        elif expiry not in listed:
            raise NotFound(f"no {u} contracts expire on {expiry}; known expiries: {', '.join(known)}")
        summarised = sorted({*known[: self._n_summarised], expiry})
        live_futures = [f for e, f in sorted(futures.items()) if years_to_expiry(e, now) > 0]
        spot_sym = self.spot_symbol(u)
        wanted = [c.symbol for e in summarised for c in options[e]] + [f.symbol for f in live_futures]
        quotes = self._quotes.get_many([*wanted, spot_sym])
        streaming = any(c.symbol in quotes for c in options[expiry])
        if not streaming and self._demand is not None:
            self._demand.request(u, now)
        spot_q = quotes.get(spot_sym)
        spot = None if spot_q is None else spot_q.ltp_paise
        today = ist_from_ms(now).date()
        prev_day, prev = (None, {}) if self._past is None else self._past.previous(u, today)

        groups = []
        for e in summarised:
            legs = [_live_leg(c, quotes.get(c.symbol), prev.get(self._keys[c.symbol])) for c in options[e]]
            years = float(years_to_expiry(e, now))
            fut = futures.get(e)
            fq = None if fut is None else quotes.get(fut.symbol)
            fut_price = None if fq is None else quote_price(fq.bid_paise, fq.ask_paise, fq.ltp_paise)[0]
            fwd, source = choose_forward(fut_price, legs, spot, years, self._rate)
            groups.append(ExpiryInput(e, legs, years, fwd, source, with_rows=e == expiry))
        built_by_expiry = dict(zip(summarised, build_chains(groups, self._rate), strict=True))
        built = built_by_expiry[expiry]
        by_expiry = tuple(built_by_expiry[e].stats for e in summarised if e in known[: self._n_summarised])
        current = next(
            (s.atm_iv for s in by_expiry if s.years_to_expiry * 365 >= IV_HISTORY_MIN_DAYS and s.atm_iv), None
        )
        standing: dict[str, float | int | None] = (
            {} if self._past is None else self._past.standing(u, today, current)
        )
        summary = summary_of(
            built.stats, built, spot, self._rate, None if prev_day is None else prev_day.isoformat(), standing
        )
        return OptionChain(
            underlying=u,
            expiry=expiry,
            as_of_ms=now,
            rows=built.rows,
            smile=built.smile,
            summary=summary,
            expiries=tuple(known),
            futures=tuple(
                _future_row(f, quotes.get(f.symbol), prev.get(self._keys[f.symbol])) for f in live_futures
            ),
            by_expiry=by_expiry,
            streaming=streaming,
        )
