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
    return float(x) if np.isfinite(x) else None


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


def build_chain(
    expiry: str,
    legs: list[LegInput],
    years: float,
    rate: float,
    forward: float | None,
    forward_source: str | None,
) -> BuiltChain:
    """Rows per strike (IV + Black-76 Greeks on ``forward``), the smile and the expiry's figures."""
    strikes = sorted({g.strike_paise for g in legs})
    pos = {k: i for i, k in enumerate(strikes)}
    n = len(strikes)
    k_rupees = np.asarray(strikes, dtype=np.float64) / 100.0
    out: dict[bool, list[OptionLeg | None]] = {True: [None] * n, False: [None] * n}
    ivs = {side: np.full(n, np.nan) for side in (True, False)}
    deltas = {side: np.full(n, np.nan) for side in (True, False)}
    oi_sum = {True: 0, False: 0}
    vol_sum = {True: 0, False: 0}
    oi_at = {side: np.zeros(n, dtype=np.int64) for side in (True, False)}
    for side in (True, False):
        items = [g for g in legs if g.is_call is side]
        idx = np.asarray([pos[g.strike_paise] for g in items], dtype=np.intp)
        price = np.asarray([np.nan if g.price_paise is None else g.price_paise / 100.0 for g in items])
        m = len(items)
        iv = np.full(m, np.nan)
        status = np.full(m, -1, dtype=np.int16)
        g_delta = g_gamma = g_theta = g_vega = np.full(m, np.nan)
        has = np.isfinite(price)
        if forward is not None and has.any():
            res = black76_implied_vol(price[has], forward, k_rupees[idx[has]], years, rate, side)
            gk = black76_greeks(forward, k_rupees[idx[has]], years, np.where(res.ok, res.iv, 0.2), rate, side)
            iv[has] = res.iv
            status[has] = res.status
            g_delta, g_gamma, g_theta, g_vega = (np.full(m, np.nan) for _ in range(4))
            for arr, name in ((g_delta, "delta"), (g_gamma, "gamma"), (g_theta, "theta"), (g_vega, "vega")):
                arr[has] = np.where(res.ok, getattr(gk, name), np.nan)
        ivs[side][idx] = iv
        deltas[side][idx] = g_delta
        for j, g in enumerate(items):
            st = int(status[j])
            reason = (
                "no_quote"
                if not g.quoted or g.price_paise is None
                else "no_forward"
                if st < 0
                else IVStatus(st).name.lower()
            )
            change = (
                None
                if g.prev_price_paise is None or g.ltp_paise is None
                else g.ltp_paise - g.prev_price_paise
            )
            i = int(idx[j])
            oi_at[side][i] += g.oi or 0
            oi_sum[side] += g.oi or 0
            vol_sum[side] += g.volume
            out[side][i] = OptionLeg(
                symbol=g.symbol,
                ltp_paise=g.ltp_paise,
                bid_paise=g.bid_paise,
                ask_paise=g.ask_paise,
                volume=g.volume,
                oi=g.oi,
                oi_change=g.oi_change,
                iv=_f(iv[j]),
                iv_status=reason,
                delta=_f(g_delta[j]),
                gamma=_f(g_gamma[j]),
                theta=_f(g_theta[j]),
                vega=_f(g_vega[j]),
                price_paise=g.price_paise,
                price_source=g.price_source,
                oi_change_source=g.oi_change_source,
                prev_price_paise=g.prev_price_paise,
                price_change_paise=change,
                buildup=buildup(change, g.oi_change),
            )
    call_oi, put_oi = oi_sum[True], oi_sum[False]
    have_oi = call_oi + put_oi > 0
    pain_i = max_pain_exact(strikes, oi_at[True], oi_at[False])[0] if have_oi and n else None
    atm_i = None if forward is None or not n else atm_index(k_rupees, forward)
    sk = (
        None
        if forward is None or not n
        else skew(k_rupees, forward, ivs[True], ivs[False], deltas[True], deltas[False])
    )
    stats = ExpiryStats(
        expiry=expiry,
        years_to_expiry=years,
        forward=forward,
        forward_source=forward_source,
        atm_strike_paise=None if atm_i is None else strikes[atm_i],
        atm_iv=None if sk is None else sk.atm_iv,
        call_oi=call_oi,
        put_oi=put_oi,
        pcr_oi=put_call_ratio([put_oi], [call_oi]),
        pcr_oi_exact=exact_pcr(put_oi, call_oi),
        pcr_volume=put_call_ratio([vol_sum[False]], [vol_sum[True]]),
        max_pain_paise=None if pain_i is None else strikes[pain_i],
    )
    rows = tuple(StrikeRow(k, out[True][i], out[False][i]) for i, k in enumerate(strikes))
    smile = tuple(_f(v) for v in sk.smile) if sk is not None else tuple(None for _ in strikes)
    return BuiltChain(
        rows,
        smile,
        stats,
        None if sk is None else sk.put_call_atm,
        None if sk is None else sk.rr25,
        None if sk is None else sk.bf25,
    )
