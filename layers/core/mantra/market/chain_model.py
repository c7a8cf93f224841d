"""An option chain as the API shows it, and the one builder that prices it (live quotes and past reports alike).

Every leg carries the price its IV came from and where that price came from (``mid`` of a live bid and ask,
``ltp``, a report's ``close`` or, for a contract that did not trade that session, the exchange's
``settlement`` price). IVs and Greeks are Black-76 on the forward of the expiry; the summary says which
forward (``future`` / ``parity`` / ``spot_carry``) and its value. Prices are integer paise here; the maths runs
in rupees as float64 (``mantra.quant.options``). PCR is also given exactly (a Decimal of the integer OI sums)
and max pain in exact integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal

import numpy as np

from mantra.quant.options import (
    IVStatus,
    atm_index,
    black76_greeks,
    black76_implied_vol,
    buildup,
    max_pain_exact,
    parity_forward,
    put_call_ratio,
    skew,
)

INF = float("inf")
PCR_CONTEXT = Context(prec=28)  # a ratio of two integers, to Decimal's default 28 significant digits


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
    iv_status: str  # "ok" or why there is no IV: no_quote, no_forward, below_intrinsic, ...
    delta: float | None
    gamma: float | None
    theta: float | None  # rupees per calendar day
    vega: float | None  # rupees per vol point
    price_paise: float | None = None  # the price the IV is solved from (a mid can be half a paisa)
    price_source: str | None = None  # mid | ltp | close | settlement
    oi_change_source: str | None = None  # eod_report | first_tick
    prev_price_paise: int | None = None  # previous session's close (options) / settlement (futures)
    price_change_paise: int | None = None
    buildup: str | None = None  # long_buildup | short_buildup | short_covering | long_unwinding


@dataclass(frozen=True)
class StrikeRow:
    strike_paise: int
    call: OptionLeg | None
    put: OptionLeg | None


@dataclass(frozen=True)
class ExpiryStats:
    """One expiry's figures (the chain's own, and each of the nearest expiries' in ``by_expiry``)."""

    expiry: str
    years_to_expiry: float
    forward: float | None
    forward_source: str | None
    atm_strike_paise: int | None
    atm_iv: float | None
    call_oi: int
    put_oi: int
    pcr_oi: float | None
    pcr_oi_exact: Decimal | None
    pcr_volume: float | None
    max_pain_paise: int | None


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
    forward_source: str | None = None  # future | parity | spot_carry
    call_oi: int = 0
    put_oi: int = 0
    pcr_oi_exact: Decimal | None = None
    oi_change_session: str | None = None  # the stored report OI change is measured from
    iv_percentile: float | None = None  # of the ATM IV, over ``iv_history_sessions`` past sessions
    iv_rank: float | None = None
    iv_history_sessions: int = 0
    iv_history_expiry_rule: str = ""


@dataclass(frozen=True)
class FutureRow:
    symbol: str
    expiry: str
    ltp_paise: int | None
    prev_price_paise: int | None  # previous settlement
    price_change_paise: int | None
    oi: int | None
    oi_change: int | None
    oi_change_source: str | None
    volume: int
    buildup: str | None


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    expiry: str
    as_of_ms: int
    rows: tuple[StrikeRow, ...]
    smile: tuple[float | None, ...]  # per row: the out-of-the-money side's IV
    summary: ChainSummary
    expiries: tuple[str, ...]
    source: str = "live"  # live | eod_report
    session: str | None = None  # the report's session for a past chain
    futures: tuple[FutureRow, ...] = ()
    by_expiry: tuple[ExpiryStats, ...] = ()
    streaming: bool = True  # False: no contract of the expiry had a quote; the feed was asked to stream them


@dataclass(frozen=True)
class LegInput:
    """One option contract's observation, from a live quote or a stored report."""

    symbol: str
    strike_paise: int
    is_call: bool
    price_paise: float | None  # what the IV is solved from
    price_source: str | None
    ltp_paise: int | None
    bid_paise: int | None
    ask_paise: int | None
    volume: int
    oi: int | None
    oi_change: int | None
    oi_change_source: str | None
    prev_price_paise: int | None
    quoted: bool = True  # False: no quote at all (the master lists it, nothing traded or was fed)


def quote_price(bid: int | None, ask: int | None, ltp: int | None) -> tuple[float | None, str | None]:
    """The mid when both sides are live (bid > 0, ask >= bid), else the LTP when there is one."""
    if bid is not None and ask is not None and bid > 0 and ask >= bid:
        return (bid + ask) / 2.0, "mid"
    if ltp is not None and ltp > 0:
        return float(ltp), "ltp"
    return None, None


def exact_pcr(put_oi: int, call_oi: int) -> Decimal | None:
    return None if call_oi <= 0 else PCR_CONTEXT.divide(Decimal(put_oi), Decimal(call_oi))


def _f(x: float) -> float | None:
    return x if x == x and x not in (INF, -INF) else None  # plain floats: NaN != NaN


@dataclass(frozen=True)
class BuiltChain:
    rows: tuple[StrikeRow, ...]
    smile: tuple[float | None, ...]
    stats: ExpiryStats
    iv_put_call_atm: float | None
    rr25: float | None
    bf25: float | None


def choose_forward(
    future_paise: float | None,
    legs: list[LegInput],
    spot_paise: int | None,
    years: float,
    rate: float,
) -> tuple[float | None, str | None]:
    """The expiry's forward in rupees: its future's price; else put-call parity at the strikes nearest the
    money with both sides priced; else spot carried at the rate."""
    if future_paise is not None and future_paise > 0:
        return future_paise / 100.0, "future"
    calls = {g.strike_paise: g.price_paise for g in legs if g.is_call and g.price_paise}
    puts = {g.strike_paise: g.price_paise for g in legs if not g.is_call and g.price_paise}
    both = sorted(set(calls) & set(puts))
    if both:
        fwd = parity_forward(
            np.asarray(both, dtype=np.float64) / 100.0,
            np.asarray([calls[k] for k in both]) / 100.0,
            np.asarray([puts[k] for k in both]) / 100.0,
            years,
            rate,
        )
        if fwd is not None and fwd > 0:
            return fwd, "parity"
    if spot_paise is not None and spot_paise > 0:
        return spot_paise / 100.0 * float(np.exp(rate * max(years, 0.0))), "spot_carry"
    return None, None


@dataclass(frozen=True)
class ExpiryInput:
    """One expiry to price: its legs, time to expiry, forward, and whether its rows are wanted (the other
    expiries of a request only give their figures)."""

    expiry: str
    legs: list[LegInput]
    years: float
    forward: float | None
    forward_source: str | None
    with_rows: bool = True


def build_chain(
    expiry: str,
    legs: list[LegInput],
    years: float,
    rate: float,
    forward: float | None,
    forward_source: str | None,
) -> BuiltChain:
    """Rows per strike (IV + Black-76 Greeks on ``forward``), the smile and the expiry's figures."""
    return build_chains([ExpiryInput(expiry, legs, years, forward, forward_source)], rate)[0]


def build_chains(groups: list[ExpiryInput], rate: float) -> list[BuiltChain]:
    """Every expiry's legs priced in one vectorised IV + Greeks pass (a chain request prices several
    expiries; one pass instead of one per expiry and side), then each expiry's rows and figures."""
    legs = [g for e in groups for g in e.legs]
    m = len(legs)
    price = (
        np.fromiter((np.nan if g.price_paise is None else g.price_paise for g in legs), np.float64, m) / 100.0
    )
    strike = np.fromiter((g.strike_paise for g in legs), np.float64, m) / 100.0
    call = np.fromiter((g.is_call for g in legs), np.bool_, m)
    fwd = np.concatenate(
        [np.full(len(e.legs), np.nan if e.forward is None else e.forward) for e in groups] or [np.empty(0)]
    )
    years = np.concatenate([np.full(len(e.legs), e.years) for e in groups] or [np.empty(0)])
    iv = np.full(m, np.nan)
    status = np.full(m, -1, dtype=np.int16)
    greek = {name: np.full(m, np.nan) for name in ("delta", "gamma", "theta", "vega")}
    has = np.isfinite(price) & np.isfinite(fwd)
    if has.any():
        res = black76_implied_vol(price[has], fwd[has], strike[has], years[has], rate, call[has])
        gk = black76_greeks(fwd[has], strike[has], years[has], np.where(res.ok, res.iv, 0.2), rate, call[has])
        iv[has] = res.iv
        status[has] = res.status
        for name, arr in greek.items():
            arr[has] = np.where(res.ok, getattr(gk, name), np.nan)
    out = []
    lo = 0
    for e in groups:
        hi = lo + len(e.legs)
        sl = slice(lo, hi)
        out.append(
            _one_expiry(
                e,
                rate,
                iv[sl],
                status[sl],
                greek["delta"][sl],
                greek["gamma"][sl],
                greek["theta"][sl],
                greek["vega"][sl],
            )
        )
        lo = hi
    return out


def _one_expiry(
    e: ExpiryInput,
    rate: float,
    iv: np.ndarray,
    status: np.ndarray,
    delta: np.ndarray,
    gamma: np.ndarray,
    theta: np.ndarray,
    vega: np.ndarray,
) -> BuiltChain:
    legs = e.legs
    strikes = sorted({g.strike_paise for g in legs})
    pos = {k: i for i, k in enumerate(strikes)}
    n = len(strikes)
    k_rupees = np.asarray(strikes, dtype=np.float64) / 100.0
    row_of = np.fromiter((pos[g.strike_paise] for g in legs), np.intp, len(legs))
    call = np.fromiter((g.is_call for g in legs), np.bool_, len(legs))
    oi = np.fromiter((g.oi or 0 for g in legs), np.int64, len(legs))
    vol = np.fromiter((g.volume for g in legs), np.int64, len(legs))
    ivs = {side: np.full(n, np.nan) for side in (True, False)}
    deltas = {side: np.full(n, np.nan) for side in (True, False)}
    oi_at = {side: np.zeros(n, dtype=np.int64) for side in (True, False)}
    for side in (True, False):
        mine = call == side
        ivs[side][row_of[mine]] = iv[mine]
        deltas[side][row_of[mine]] = delta[mine]
        np.add.at(oi_at[side], row_of[mine], oi[mine])
    call_oi, put_oi = int(oi[call].sum()), int(oi[~call].sum())
    call_vol, put_vol = int(vol[call].sum()), int(vol[~call].sum())
    forward = e.forward
    pain_i = max_pain_exact(strikes, oi_at[True], oi_at[False])[0] if call_oi + put_oi > 0 and n else None
    atm_i = None if forward is None or not n else atm_index(k_rupees, forward)
    sk = (
        None
        if forward is None or not n
        else skew(k_rupees, forward, ivs[True], ivs[False], deltas[True], deltas[False])
    )
    stats = ExpiryStats(
        expiry=e.expiry,
        years_to_expiry=e.years,
        forward=forward,
        forward_source=e.forward_source,
        atm_strike_paise=None if atm_i is None else strikes[atm_i],
        atm_iv=None if sk is None else sk.atm_iv,
        call_oi=call_oi,
        put_oi=put_oi,
        pcr_oi=put_call_ratio([put_oi], [call_oi]),
        pcr_oi_exact=exact_pcr(put_oi, call_oi),
        pcr_volume=put_call_ratio([put_vol], [call_vol]),
        max_pain_paise=None if pain_i is None else strikes[pain_i],
    )
    rows: tuple[StrikeRow, ...] = ()
    smile: tuple[float | None, ...] = ()
    if e.with_rows:
        cells: dict[bool, list[OptionLeg | None]] = {True: [None] * n, False: [None] * n}
        ivl, dl, gl, tl, vl = (a.tolist() for a in (iv, delta, gamma, theta, vega))
        st = status.tolist()
        for j, g in enumerate(legs):
            cells[g.is_call][row_of[j]] = _leg(g, st[j], ivl[j], dl[j], gl[j], tl[j], vl[j])
        rows = tuple(StrikeRow(k, cells[True][i], cells[False][i]) for i, k in enumerate(strikes))
        smile = tuple(_f(v) for v in sk.smile.tolist()) if sk is not None else tuple(None for _ in strikes)
    return BuiltChain(
        rows,
        smile,
        stats,
        None if sk is None else sk.put_call_atm,
        None if sk is None else sk.rr25,
        None if sk is None else sk.bf25,
    )


_REASONS = {int(s): s.name.lower() for s in IVStatus}


def _leg(g: LegInput, st: int, iv: float, delta: float, gamma: float, theta: float, vega: float) -> OptionLeg:
    reason = "no_quote" if not g.quoted or g.price_paise is None else "no_forward" if st < 0 else _REASONS[st]
    change = None if g.prev_price_paise is None or g.ltp_paise is None else g.ltp_paise - g.prev_price_paise
    return OptionLeg(
        symbol=g.symbol,
        ltp_paise=g.ltp_paise,
        bid_paise=g.bid_paise,
        ask_paise=g.ask_paise,
        volume=g.volume,
        oi=g.oi,
        oi_change=g.oi_change,
        iv=_f(iv),
        iv_status=reason,
        delta=_f(delta),
        gamma=_f(gamma),
        theta=_f(theta),
        vega=_f(vega),
        price_paise=g.price_paise,
        price_source=g.price_source,
        oi_change_source=g.oi_change_source,
        prev_price_paise=g.prev_price_paise,
        price_change_paise=change,
        buildup=buildup(change, g.oi_change),
    )
