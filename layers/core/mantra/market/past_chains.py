"""Chains from the stored F&O reports: a past session's chain, the previous session's OI and prices that the
live chain measures OI change and build-up against, and the ATM IV history for IV percentile and rank.

A past chain is priced at that session's close (15:30 IST): each option from its closing price when it traded
that day, else from the exchange's settlement price (a contract that did not trade keeps the previous close as
its "close", which says nothing about that day); the forward is the expiry's future when it traded, else
put-call parity, else the underlying's close carried at the rate. What was not ingested is refused (404) by
name, never filled in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from threading import Lock

from mantra.clock import IST, Clock
from mantra.errors import NotFound
from mantra.market.chain_model import (
    BuiltChain,
    ChainSummary,
    ExpiryInput,
    ExpiryStats,
    FutureRow,
    LegInput,
    OptionChain,
    build_chains,
    choose_forward,
)
from mantra.market.fo_contracts import FoContract, FoStore
from mantra.quant.options import buildup, iv_standing
from mantra.quant.options.black_scholes import years_to_expiry

SESSION_CLOSE = time(15, 30)
IV_HISTORY_MIN_DAYS = 2.0  # the ATM IV compared across sessions is the nearest expiry at least this far out
IV_HISTORY_RULE = "ATM IV of the nearest expiry at least 2 calendar days out, at each session's close"
REPORT_CACHE = 64  # (session, underlying) reports kept in memory: a stored session never changes
PREVIOUS_TTL_MS = 60_000  # how long the "previous stored session" answer is trusted

ContractKey = tuple[date, int | None, str | None]  # expiry, strike, CE/PE (None, None for a future)


def close_ms(day: date) -> int:
    return int(datetime.combine(day, SESSION_CLOSE, tzinfo=IST).timestamp() * 1000)


def key_of(c: FoContract) -> ContractKey:
    return (c.expiry, c.strike_paise, c.option_type)


def report_legs(contracts: Sequence[FoContract]) -> list[LegInput]:
    legs = []
    for c in contracts:
        if c.option_type is None or c.strike_paise is None:
            continue
        traded = c.traded
        legs.append(
            LegInput(
                symbol=c.name or f"{c.underlying}#{c.expiry.isoformat()}#{c.strike_paise}{c.option_type}",
                strike_paise=c.strike_paise,
                is_call=c.option_type == "CE",
                price_paise=float(c.close_paise if traded and c.close_paise else c.settlement_paise),
                price_source="close" if traded and c.close_paise else "settlement",
                ltp_paise=c.close_paise,
                bid_paise=None,
                ask_paise=None,
                volume=c.volume or 0,
                oi=c.open_interest,
                oi_change=c.change_in_oi,
                oi_change_source="eod_report",
                prev_price_paise=c.prev_close_paise,
            )
        )
    return legs


def report_expiry(
    contracts: Sequence[FoContract], expiry: date, as_of_ms: int, rate: float
) -> tuple[list[LegInput], float, float | None, str | None, int | None]:
    """One expiry of a report: its legs, years to expiry at ``as_of_ms``, the forward and its source, spot."""
    mine = [c for c in contracts if c.expiry == expiry]
    legs = report_legs(mine)
    years = float(years_to_expiry(expiry.isoformat(), as_of_ms))
    future = next((c for c in mine if c.is_future and c.traded and c.close_paise), None)
    spot = next((c.underlying_paise for c in contracts if c.underlying_paise), None)
    fwd, source = choose_forward(
        None if future is None else float(future.close_paise or 0),
        [g for g in legs if g.volume > 0],  # parity from prices that traded that day
        spot,
        years,
        rate,
    )
    return legs, years, fwd, source, spot


class PastChains:
    def __init__(
        self,
        store: FoStore,
        clock: Clock,
        rate: float,
        history_sessions: int = 252,
        summarised_expiries: int = 3,
    ) -> None:
        self._store, self._clock, self._rate, self._history = store, clock, rate, history_sessions
        self._summarised = max(1, summarised_expiries)
        self._reports: OrderedDict[tuple[date, str], list[FoContract]] = OrderedDict()
        self._atm: dict[tuple[str, date], float | None] = {}
        self._previous: dict[date, tuple[int, date | None]] = {}
        self._sessions: dict[date, tuple[int, list[date]]] = {}  # the stored sessions before a day
        self._keyed: dict[tuple[date, str], dict[ContractKey, FoContract]] = {}
        self._lock = Lock()

    # ---------------------------------------------------------------- stored reports
    def report(self, session: date, underlying: str) -> list[FoContract]:
        key = (session, underlying)
        with self._lock:
            hit = self._reports.get(key)
            if hit is not None:
                self._reports.move_to_end(key)
                return hit
        rows = self._store.contracts(session, underlying)
        with self._lock:
            self._reports[key] = rows
            while len(self._reports) > REPORT_CACHE:
                self._reports.popitem(last=False)
        return rows

    def previous_session(self, today: date) -> date | None:
        """The newest stored session before ``today`` (checked again after a minute: tonight's ingest)."""
        now = self._clock.now_ms()
        hit = self._previous.get(today)
        if hit is not None and 0 <= now - hit[0] < PREVIOUS_TTL_MS:
            return hit[1]
        found = self._store.latest_session(today - timedelta(days=1))
        day = None if found is None else found.session
        self._previous[today] = (now, day)
        return day

    def previous(self, underlying: str, today: date) -> tuple[date | None, dict[ContractKey, FoContract]]:
        day = self.previous_session(today)
        if day is None:
            return None, {}
        hit = self._keyed.get((day, underlying))
        if hit is None:
            hit = {key_of(c): c for c in self.report(day, underlying)}
            with self._lock:
                if len(self._keyed) >= REPORT_CACHE:
                    self._keyed.clear()
                self._keyed[(day, underlying)] = hit
        return day, hit

    # ---------------------------------------------------------------- IV history
    def atm_iv_at(self, underlying: str, session: date) -> float | None:
        """The session's ATM IV by ``IV_HISTORY_RULE`` (cached: a stored session does not change)."""
        key = (underlying, session)
        if key in self._atm:
            return self._atm[key]
        value = self._atm_iv_of(self.report(session, underlying), session)
        self._atm[key] = value
        return value

    def _atm_iv_of(self, contracts: Sequence[FoContract], session: date) -> float | None:
        at = close_ms(session)
        for expiry in sorted({c.expiry for c in contracts if c.option_type is not None}):
            if (expiry - session).days < IV_HISTORY_MIN_DAYS:
                continue
            legs, years, fwd, source, _ = report_expiry(contracts, expiry, at, self._rate)
            group = ExpiryInput(expiry.isoformat(), legs, years, fwd, source, with_rows=False)
            return build_chains([group], self._rate)[0].stats.atm_iv
        return None

    def iv_history(self, underlying: str, before: date) -> list[float]:
        """ATM IVs of the stored sessions before ``before`` (newest first, at most ``history_sessions``)."""
        now = self._clock.now_ms()
        hit = self._sessions.get(before)
        if hit is None or not 0 <= now - hit[0] < PREVIOUS_TTL_MS:
            hit = (now, self._store.sessions(before - timedelta(days=1), self._history))
            self._sessions[before] = hit
        days = hit[1]
        out = [self.atm_iv_at(underlying, d) for d in days]
        return [v for v in out if v is not None]

    def standing(self, underlying: str, before: date, current: float | None) -> dict[str, float | int | None]:
        history = self.iv_history(underlying, before)
        st = None if current is None else iv_standing(current, history)
        return {
            "iv_percentile": None if st is None else st.percentile,
            "iv_rank": None if st is None else st.rank,
            "iv_history_sessions": len(history),
        }

    # ---------------------------------------------------------------- a past chain
    def chain(self, underlying: str, expiry: str | None, session: str) -> OptionChain:
        u = underlying.strip().upper()
        day = date.fromisoformat(session)
        stored = self._store.latest_session(day)
        if stored is None or stored.session != day:
            near = f"; the latest stored before it is {stored.session.isoformat()}" if stored else ""
            raise NotFound(
                f"date: no F&O report is stored for the session {day.isoformat()}{near}; "
                "load that day's F&O bhavcopy (mantra history load or eod_ingest)"
            )
        contracts = self.report(day, u)
        if not contracts:
            raise NotFound(f"{u}: not in the F&O report of {day.isoformat()}")
        if any(c.close_paise is None for c in contracts):
            raise NotFound(
                f"{u}: the stored F&O report of {day.isoformat()} predates stored closing prices; load it again"
            )
        at = close_ms(day)
        option_expiries = sorted({c.expiry for c in contracts if c.option_type is not None})
        live = [e for e in option_expiries if years_to_expiry(e.isoformat(), at) > 0]
        if not live:
            raise NotFound(
                f"{u}: every option expiry in the report of {day.isoformat()} had passed by its close"
            )
        names = ", ".join(e.isoformat() for e in live)
        if expiry is None:
            chosen = live[0]
        else:
            chosen = date.fromisoformat(expiry)
            if chosen in option_expiries and chosen not in live:
                raise NotFound(
                    f"expiry: {u} {expiry} expired at 15:30 IST on {day.isoformat()}; "
                    f"expiries in that report: {names}"
                )
            if chosen not in live:
                raise NotFound(
                    f"expiry: {u} has no options expiring {expiry} in the report of {day.isoformat()}; "
                    f"expiries in that report: {names}"
                )
        spot: int | None = None
        groups = []
        summarised = live[: self._summarised]
        for e in sorted({*summarised, chosen}):
            legs, years, fwd, source, spot = report_expiry(contracts, e, at, self._rate)
            groups.append(ExpiryInput(e.isoformat(), legs, years, fwd, source, with_rows=e == chosen))
        built_all = dict(zip(sorted({*summarised, chosen}), build_chains(groups, self._rate), strict=True))
        built = built_all[chosen]
        current = self._atm_iv_of(contracts, day)
        standing = self.standing(u, day, current)
        summary = summary_of(built.stats, built, spot, self._rate, None, standing)
        futures = tuple(
            _report_future(c)
            for c in sorted(contracts, key=lambda c: c.expiry)
            if c.is_future and years_to_expiry(c.expiry.isoformat(), at) > 0
        )
        return OptionChain(
            underlying=u,
            expiry=chosen.isoformat(),
            as_of_ms=at,
            rows=built.rows,
            smile=built.smile,
            summary=summary,
            expiries=tuple(e.isoformat() for e in live),
            source="eod_report",
            session=day.isoformat(),
            futures=futures,
            by_expiry=tuple(built_all[e].stats for e in summarised),
        )


def _report_future(c: FoContract) -> FutureRow:
    """A future's session from the report: its close against the previous close, the exchange's OI change."""
    change = (
        None if c.close_paise is None or c.prev_close_paise is None else c.close_paise - c.prev_close_paise
    )
    return FutureRow(
        symbol=c.name or f"{c.underlying}#{c.expiry.isoformat()}#FUT",
        expiry=c.expiry.isoformat(),
        ltp_paise=c.close_paise,
        prev_price_paise=c.prev_close_paise,
        price_change_paise=change,
        oi=c.open_interest,
        oi_change=c.change_in_oi,
        oi_change_source="eod_report",
        volume=c.volume or 0,
        buildup=buildup(change, c.change_in_oi),
    )


def summary_of(
    stats: ExpiryStats,
    built: BuiltChain,
    spot_paise: int | None,
    rate: float,
    oi_change_session: str | None,
    standing: dict[str, float | int | None],
) -> ChainSummary:
    sessions = standing.get("iv_history_sessions") or 0
    return ChainSummary(
        spot_paise=spot_paise,
        forward=stats.forward,
        atm_strike_paise=stats.atm_strike_paise,
        pcr_oi=stats.pcr_oi,
        pcr_volume=stats.pcr_volume,
        max_pain_paise=stats.max_pain_paise,
        atm_iv=stats.atm_iv,
        iv_put_call_atm=built.iv_put_call_atm,
        rr25=built.rr25,
        bf25=built.bf25,
        years_to_expiry=stats.years_to_expiry,
        rate=rate,
        forward_source=stats.forward_source,
        call_oi=stats.call_oi,
        put_oi=stats.put_oi,
        pcr_oi_exact=stats.pcr_oi_exact,
        oi_change_session=oi_change_session,
        iv_percentile=_num(standing.get("iv_percentile")),
        iv_rank=_num(standing.get("iv_rank")),
        iv_history_sessions=int(sessions),
        iv_history_expiry_rule=IV_HISTORY_RULE,
    )


def _num(x: float | int | None) -> float | None:
    return None if x is None else float(x)
