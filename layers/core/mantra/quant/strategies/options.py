"""Option strategies on an underlying: covered call, cash-secured put, iron condor, straddle, strangle.

Each strategy is a list of legs opened on a bar's close and held to expiry ``dte`` bars later, then rolled
(these strategies declare ``fill_at_close``: the premium is priced from that close and traded at it).
Premiums come from a ``Pricer``: ``BlackScholesPricer`` (default; implied vol = the ``iv`` parameter, or the
realised vol of the last 20 bars when ``iv`` is 0) or ``ChainPricer`` (quotes from an option chain, e.g. NSE
bhavcopy rows).  Every day the open legs are marked with the pricer, so the equity curve moves with the
option values, not only at expiry.

Simplifications (stated so results are read correctly): options settle at intrinsic value in cash on the
expiry bar's close (NSE index options are cash-settled; stock options are physically settled - the covered
call keeps its shares and settles the call's intrinsic value in cash, the cash-secured put settles in cash
instead of taking delivery); no early exercise (European, as NSE options are).

Costs and slippage are the backtest's own (``BacktestConfig.costs`` and ``.slippage``), as for equity
backtests: with the Indian model the legs pay the options segment's charges on premium turnover (STT on the
sold premium, exchange charges, SEBI fee, stamp duty on the bought premium, GST, the broker's fee) and the
covered call's shares the equity delivery charges (``costs_for_segment``); a fractional commission is charged
on premium turnover.  Opening fills (premiums and shares) pay slippage: a bought leg fills above the priced
premium, a sold leg below.  Settlement at intrinsic value pays charges on the settled value but no
slippage (it is not a market order); daily marks use the pricer's premium.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from mantra.quant.backtest.costs import CostModel, costs_for_segment
from mantra.quant.backtest.data import Bars, DataError, FloatArray
from mantra.quant.backtest.engine import BacktestConfig, BacktestError, SimResult, TradeTable
from mantra.quant.strategies.registry import Param, StrategyError, StrategySpec, register

Kind = Literal["call", "put"]
TRADING_DAYS = 252.0


# --- Black-Scholes


def norm_cdf(x: FloatArray | float) -> FloatArray:
    xa = np.asarray(x, dtype=np.float64)
    erf = np.frompyfunc(math.erf, 1, 1)
    e = np.asarray(erf(xa / math.sqrt(2.0)), dtype=np.float64)
    return np.asarray(0.5 * (1.0 + e), dtype=np.float64)


def black_scholes(
    kind: Kind,
    spot: FloatArray | float,
    strike: FloatArray | float,
    years: FloatArray | float,
    vol: FloatArray | float,
    rate: float = 0.065,
    div: float = 0.0,
) -> FloatArray:
    """European option price (vectorised).  At or after expiry (years <= 0) it is the intrinsic value."""
    s = np.asarray(spot, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    t = np.maximum(np.asarray(years, dtype=np.float64), 0.0)
    v = np.maximum(np.asarray(vol, dtype=np.float64), 1e-9)
    intrinsic = np.maximum(s - k, 0.0) if kind == "call" else np.maximum(k - s, 0.0)
    live = t > 0
    sq = np.sqrt(np.where(live, t, 1.0))
    d1 = (np.log(s / k) + (rate - div + 0.5 * v * v) * np.where(live, t, 1.0)) / (v * sq)
    d2 = d1 - v * sq
    tt = np.where(live, t, 0.0)
    if kind == "call":
        px = s * np.exp(-div * tt) * norm_cdf(d1) - k * np.exp(-rate * tt) * norm_cdf(d2)
    else:
        px = k * np.exp(-rate * tt) * norm_cdf(-d2) - s * np.exp(-div * tt) * norm_cdf(-d1)
    return np.asarray(np.where(live, px, intrinsic), dtype=np.float64)


# --- pricers


class Pricer(Protocol):
    def price(self, bar: int, kind: Kind, strike: float, expiry_bar: int, spot: float) -> float: ...


@dataclass(frozen=True)
class BlackScholesPricer:
    close: FloatArray
    iv: float = 0.0  # 0: realised vol of the last ``window`` closes, times ``iv_premium``
    rate: float = 0.065
    window: int = 20
    iv_premium: float = 1.1

    def vol(self, bar: int) -> float:
        if self.iv > 0:
            return self.iv
        lo = max(0, bar - self.window)
        r = np.diff(np.log(self.close[lo : bar + 1]))
        v = float(np.std(r, ddof=1)) * math.sqrt(TRADING_DAYS) if r.size > 2 else 0.2
        return max(v * self.iv_premium, 0.05)

    def price(self, bar: int, kind: Kind, strike: float, expiry_bar: int, spot: float) -> float:
        years = (expiry_bar - bar) / TRADING_DAYS
        return float(black_scholes(kind, spot, strike, years, self.vol(bar), self.rate))


@dataclass(frozen=True)
class ChainPricer:
    """Quotes from an option chain: ``quotes[(bar, kind, strike, expiry_bar)] = premium``.  ``expiry_bars``
    are the chain's expiries (as bar indices): option strategies then roll on those dates, taking the expiry
    nearest to ``dte`` bars ahead.  A quote missing from the chain falls back to ``fallback`` (Black-Scholes)
    when given - each miss is recorded in ``misses`` - else it is an error."""

    quotes: Mapping[tuple[int, str, float, int], float]
    fallback: Pricer | None = None
    expiry_bars: tuple[int, ...] = ()
    misses: list[tuple[int, str, float, int]] = field(default_factory=list, compare=False)

    def price(self, bar: int, kind: Kind, strike: float, expiry_bar: int, spot: float) -> float:
        key = (bar, kind, float(strike), expiry_bar)
        if key in self.quotes:
            return float(self.quotes[key])
        if bar >= expiry_bar:
            return max(spot - strike, 0.0) if kind == "call" else max(strike - spot, 0.0)
        if self.fallback is not None:
            self.misses.append(key)
            return self.fallback.price(bar, kind, strike, expiry_bar, spot)
        raise BacktestError(f"no chain quote for {kind} {strike:g} expiring at bar {expiry_bar} on bar {bar}")


def load_chain_csv(path: str | Path, bars: Bars, *, fallback: Pricer | None = None) -> ChainPricer:
    """An option chain CSV - ``Date,Expiry,Strike,Type,Close`` (Type CE/PE or call/put; ``Premium``, ``LTP``
    or ``Settle`` may stand for Close; any case) - as a ``ChainPricer`` on ``bars``' trading days.  Rows whose
    date or expiry is not a bar of ``bars`` are skipped."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    days = bars.index.astype("datetime64[D]")
    pos = {str(d): i for i, d in enumerate(days)}
    quotes: dict[tuple[int, str, float, int], float] = {}
    expiries: set[int] = set()
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = {(h or "").strip().lower().replace(" ", ""): h for h in reader.fieldnames or []}
        price_col = next(
            (cols[k] for k in ("close", "premium", "ltp", "settle", "settleprice") if k in cols), None
        )
        type_col = next(
            (cols[k] for k in ("type", "optiontype", "option_type", "optiontyp") if k in cols), None
        )
        need = {"date": cols.get("date"), "expiry": cols.get("expiry"), "strike": cols.get("strike")}
        missing = (
            [k for k, v in need.items() if v is None]
            + ([] if price_col else ["close"])
            + ([] if type_col else ["type"])
        )
        if missing:
            raise DataError(
                f"{p}: missing column(s) {', '.join(missing)}; expected Date,Expiry,Strike,Type,Close"
            )
        date_c, exp_c, strike_c = str(need["date"]), str(need["expiry"]), str(need["strike"])
        price_c, type_c = str(price_col), str(type_col)
        for lineno, row in enumerate(reader, start=2):
            d = pos.get(str(row[date_c]).strip()[:10])
            e = pos.get(str(row[exp_c]).strip()[:10])
            if d is None or e is None:
                continue
            t = str(row[type_c]).strip().lower()
            kind = "call" if t in ("ce", "call", "c") else "put" if t in ("pe", "put", "p") else None
            try:
                strike = float(row[strike_c])
                px = float(row[price_c])
            except (TypeError, ValueError):
                raise DataError(f"{p}:{lineno}: cannot read strike/price in {row!r}") from None
            if kind is None or not (px >= 0 and math.isfinite(px)):
                raise DataError(f"{p}:{lineno}: bad option type or price in {row!r}")
            quotes[(d, kind, strike, e)] = px
            expiries.add(e)
    if not quotes:
        raise DataError(f"{p}: no quotes on the underlying's trading days")
    return ChainPricer(quotes, fallback=fallback, expiry_bars=tuple(sorted(expiries)))


# --- structures


@dataclass(frozen=True)
class Leg:
    kind: Kind | Literal["stock"]
    side: int  # +1 long, -1 short
    strike: float = 0.0


def payoff_at_expiry(
    legs: Sequence[Leg], premiums: Sequence[float], entry_spot: float, spots: FloatArray
) -> FloatArray:
    """P&L per unit of underlying at expiry over ``spots`` (premiums paid/received included)."""
    pnl = np.zeros_like(spots, dtype=np.float64)
    for leg, prem in zip(legs, premiums, strict=True):
        if leg.kind == "stock":
            pnl += leg.side * (spots - entry_spot)
        else:
            intrinsic = (
                np.maximum(spots - leg.strike, 0) if leg.kind == "call" else np.maximum(leg.strike - spots, 0)
            )
            pnl += leg.side * (intrinsic - prem)
    return pnl


def _round_strike(x: float, step: float) -> float:
    return float(round(x / step) * step)


def build_legs(name: str, spot: float, p: Mapping[str, Any]) -> list[Leg]:
    step = float(p["strike_step"])
    otm, wing = float(p.get("otm", 0.05)), float(p.get("wing", 0.05))
    side = -1 if p.get("side", "short") == "short" else 1
    if name == "covered_call":
        return [Leg("stock", 1), Leg("call", -1, _round_strike(spot * (1 + otm), step))]
    if name == "cash_secured_put":
        return [Leg("put", -1, _round_strike(spot * (1 - otm), step))]
    if name == "iron_condor":
        return [
            Leg("put", 1, _round_strike(spot * (1 - otm - wing), step)),
            Leg("put", -1, _round_strike(spot * (1 - otm), step)),
            Leg("call", -1, _round_strike(spot * (1 + otm), step)),
            Leg("call", 1, _round_strike(spot * (1 + otm + wing), step)),
        ]
    if name == "straddle":
        k = _round_strike(spot, step)
        return [Leg("call", side, k), Leg("put", side, k)]
    if name == "strangle":
        return [
            Leg("put", side, _round_strike(spot * (1 - otm), step)),
            Leg("call", side, _round_strike(spot * (1 + otm), step)),
        ]
    raise StrategyError(f"unknown option strategy {name!r}")


def _capital_per_unit(name: str, legs: Sequence[Leg], spot: float, margin: float) -> float:
    """Cash a structure ties up per unit of underlying: the shares, the put strike, the condor's wing, or a
    SPAN-like ``margin`` x spot for naked short straddles/strangles."""
    if name == "covered_call":
        return spot
    if name == "cash_secured_put":
        return legs[0].strike
    if name == "iron_condor":
        return max(legs[1].strike - legs[0].strike, legs[3].strike - legs[2].strike)
    if any(leg.side < 0 for leg in legs):
        return margin * spot
    return 0.0


def run_option_strategy(
    bars: Bars, name: str, p: Mapping[str, Any], cfg: BacktestConfig, pricer: Pricer | None = None
) -> tuple[SimResult, dict[str, Any]]:
    """Roll the structure every ``dte`` bars; returns the simulation and the last cycle's payoff data."""
    if bars.n_symbols != 1:
        raise BacktestError(f"{name} runs on one underlying, got {bars.n_symbols} symbols")
    c = bars.close[:, 0]
    t_len = c.shape[0]
    pr = pricer or BlackScholesPricer(c, iv=float(p["iv"]), rate=float(p["rate"]))
    opt_costs: CostModel = costs_for_segment(cfg.costs, "options")
    stock_costs: CostModel = costs_for_segment(cfg.costs, "equity_delivery")
    slip = cfg.slippage
    dte = int(p["dte"])
    lot = int(p["lot_size"])
    start = 21
    quotes = getattr(pr, "quotes", None)
    if quotes:
        start = max(start, min(k[0] for k in quotes))
    if start + dte >= t_len and not getattr(pr, "expiry_bars", ()):
        raise BacktestError(f"need more than {start + dte} bars for dte={dte}")
    cash = cfg.cash
    equity = np.full(t_len, cfg.cash)
    cash_series = np.full(t_len, cfg.cash)
    position = np.zeros(t_len)
    rows: list[tuple[float, ...]] = []
    stock_qty = 0.0
    last: dict[str, Any] = {}
    expiries = sorted(int(e) for e in getattr(pr, "expiry_bars", ()) or ())

    def next_expiry(t: int) -> int | None:
        if not expiries:
            return t + dte if t + dte < t_len else None
        ahead = [e for e in expiries if t < e < t_len]
        return min(ahead, key=lambda e: (abs(e - t - dte), e)) if ahead else None

    t = start
    while (exp_or_none := next_expiry(t)) is not None:
        exp = exp_or_none
        spot = float(c[t])
        legs = build_legs(name, spot, p)
        per_unit = _capital_per_unit(name, legs, spot, float(p.get("margin", 0.2)))
        mark_now = cash + stock_qty * spot
        lots = int(p["lots"])
        if per_unit > 0:
            lots = min(lots, int(mark_now // (per_unit * lot)))
        if lots <= 0:
            if not rows:
                raise BacktestError(
                    f"cash {mark_now:,.0f} does not cover one lot of {name} ({per_unit * lot:,.0f})"
                )
            # after losses: sit this cycle out in cash
            equity[t : exp + 1] = cash + stock_qty * c[t : exp + 1]
            cash_series[t : exp + 1] = cash
            position[t : exp + 1] = stock_qty
            t = exp
            continue
        qty = float(lots * lot)
        # the premiums the fills get: priced premium moved against the trader by the slippage
        prem = [
            0.0 if lg.kind == "stock" else slip.apply(lg.side, pr.price(t, lg.kind, lg.strike, exp, spot))
            for lg in legs
        ]
        fees = 0.0
        stock_basis = spot
        for lg, pm in zip(legs, prem, strict=True):
            if lg.kind == "stock":
                if stock_qty == 0:
                    stock_basis = slip.apply(1, spot)
                    fees += stock_costs.charges(1, qty, stock_basis)
                    cash -= qty * stock_basis
                    stock_qty = qty
                continue
            fees += opt_costs.charges(lg.side, qty, pm)
            cash -= lg.side * qty * pm
        cash -= fees
        net_entry = sum(lg.side * pm for lg, pm in zip(legs, prem, strict=True) if lg.kind != "stock")
        # mark daily until expiry
        for u in range(t, exp + 1):
            s_u = float(c[u])
            val = sum(
                lg.side * qty * pr.price(u, lg.kind, lg.strike, exp, s_u) for lg in legs if lg.kind != "stock"
            )
            equity[u] = cash + val + stock_qty * s_u
            cash_series[u] = cash
            position[u] = qty
        s_exp = float(c[exp])
        settle = [
            0.0
            if lg.kind == "stock"
            else (max(s_exp - lg.strike, 0.0) if lg.kind == "call" else max(lg.strike - s_exp, 0.0))
            for lg in legs
        ]
        exit_fees = sum(
            opt_costs.charges(-lg.side, qty, st)
            for lg, st in zip(legs, settle, strict=True)
            if lg.kind != "stock" and st > 0
        )
        cash += sum(lg.side * qty * st for lg, st in zip(legs, settle, strict=True) if lg.kind != "stock")
        cash -= exit_fees
        net_exit = sum(lg.side * st for lg, st in zip(legs, settle, strict=True) if lg.kind != "stock")
        equity[exp] = cash + stock_qty * s_exp
        cash_series[exp] = cash
        stock_pnl = stock_qty * (s_exp - stock_basis) if name == "covered_call" else 0.0
        pnl = qty * (net_exit - net_entry) + stock_pnl - fees - exit_fees
        base = per_unit * qty if per_unit > 0 else max(abs(net_entry) * qty, 1.0)
        direction = 1 if net_entry > 0 else -1
        rows.append(
            (
                0,
                0,
                direction,
                qty,
                t,
                abs(net_entry),
                exp,
                abs(net_exit),
                fees + exit_fees,
                pnl,
                pnl / base,
                0,
            )
        )
        last = {"legs": legs, "premiums": prem, "spot": spot, "qty": qty, "bar": t}
        t = exp
    if t < t_len - 1:
        equity[t + 1 :] = cash + stock_qty * c[t + 1 :]
        cash_series[t + 1 :] = cash
        position[t + 1 :] = stock_qty
    sim = SimResult(
        bars,
        cfg,
        equity.reshape(-1, 1),
        cash_series.reshape(-1, 1),
        position.reshape(-1, 1),
        TradeTable.from_rows(rows),
        2 * len(rows),
    )
    return sim, last


OPTION_STRATEGIES = ("covered_call", "cash_secured_put", "iron_condor", "straddle", "strangle")


def option_params(name: str) -> tuple[Param, ...]:
    common = (
        Param("dte", int, 21, "bars from entry to expiry (21 ~ monthly)", min=2, max=252),
        Param("iv", float, 0.0, "implied vol for Black-Scholes; 0 = realised 20-bar vol x 1.1", min=0, max=5),
        Param("rate", float, 0.065, "risk-free rate (annual)", min=0, max=0.5),
        Param("lots", int, 1, "lots per cycle (cut to what cash covers)", min=1, max=10_000),
        Param("lot_size", int, 1, "contract lot size (NIFTY 75, stock lots vary)", min=1, max=100_000),
        Param("strike_step", float, 5.0, "strike interval", min=0.05, max=10_000),
    )
    extra: tuple[Param, ...] = ()
    if name in ("covered_call", "cash_secured_put", "strangle", "iron_condor"):
        extra += (Param("otm", float, 0.05, "strike distance from spot (fraction)", min=0, max=0.5),)
    if name == "iron_condor":
        extra += (Param("wing", float, 0.05, "width of the protective wings (fraction)", min=0.005, max=0.5),)
    if name in ("straddle", "strangle"):
        extra += (
            Param("side", str, "short", "short (sell premium) or long (buy)", choices=("short", "long")),
            Param("margin", float, 0.2, "margin per unit for short legs, fraction of spot", min=0.01, max=1),
        )
    return common + extra


def payoff_svg(
    legs: Sequence[Leg],
    premiums: Sequence[float],
    spot: float,
    qty: float = 1.0,
    width: int = 720,
    height: int = 300,
) -> str:
    """A payoff diagram at expiry (P&L per cycle, x = underlying at expiry), inline SVG."""
    spots = np.linspace(spot * 0.8, spot * 1.2, 241)
    pnl = payoff_at_expiry(legs, premiums, spot, spots) * qty
    lo, hi = float(pnl.min()), float(pnl.max())
    if hi - lo < 1e-9:
        hi, lo = hi + 1, lo - 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad
    pl, pr_, pt, pb = 70, 16, 12, 30

    def x(v: float) -> float:
        return pl + (width - pl - pr_) * (v - spots[0]) / (spots[-1] - spots[0])

    def y(v: float) -> float:
        return pt + (height - pt - pb) * (1 - (v - lo) / (hi - lo))

    zero = y(0.0)
    pts = " ".join(f"{x(float(s)):.1f},{y(float(v)):.1f}" for s, v in zip(spots, pnl, strict=True))
    clip_up = f'<clipPath id="up"><rect x="0" y="0" width="{width}" height="{max(zero, 0):.1f}"/></clipPath>'
    clip_dn = f'<clipPath id="dn"><rect x="0" y="{zero:.1f}" width="{width}" height="{height}"/></clipPath>'
    x0, x1 = x(float(spots[0])), x(float(spots[-1]))
    area = f"M{x0:.1f},{zero:.1f} L{pts.replace(' ', ' L')} L{x1:.1f},{zero:.1f} Z"
    body = [
        f"<defs>{clip_up}{clip_dn}</defs>",
        f'<path d="{area}" fill="#16a34a" fill-opacity="0.18" clip-path="url(#up)"/>',
        f'<path d="{area}" fill="#dc2626" fill-opacity="0.18" clip-path="url(#dn)"/>',
        f'<line x1="{pl}" x2="{width - pr_}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#94a3b8"/>',
        f'<polyline points="{pts}" fill="none" stroke="#0f172a" stroke-width="2"/>',
        f'<line x1="{x(spot):.1f}" x2="{x(spot):.1f}" y1="{pt}" y2="{height - pb}" stroke="#2563eb" '
        f'stroke-dasharray="4 3"><title>spot at entry {spot:,.2f}</title></line>',
    ]
    for lg in legs:
        if lg.kind != "stock":
            body.append(
                f'<text x="{x(lg.strike):.1f}" y="{height - 16}" text-anchor="middle" font-size="10" '
                f'fill="#64748b">{"+" if lg.side > 0 else "-"}{lg.kind[0].upper()} {lg.strike:g}</text>'
            )
    for v in (lo + pad, 0.0, hi - pad):
        body.append(
            f'<text x="{pl - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#64748b">{v:,.0f}</text>'
        )
    for s in (spots[0], spot, spots[-1]):
        body.append(
            f'<text x="{x(float(s)):.1f}" y="{height - 3}" text-anchor="middle" font-size="11" '
            f'fill="#64748b">{float(s):,.0f}</text>'
        )
    return (
        f'<svg viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="payoff at expiry">{"".join(body)}</svg>'
    )


def _no_signals(bars: Bars, p: Mapping[str, Any]) -> Any:
    raise StrategyError("option strategies run through run_backtest / run_option_strategy, not as signals")


_DESCRIPTIONS = {
    "covered_call": "Hold the shares, sell an OTM call each cycle (income, capped upside).",
    "cash_secured_put": "Sell an OTM put each cycle with its strike's cash set aside.",
    "iron_condor": "Sell an OTM put and call, buy further OTM wings: a defined-risk range bet.",
    "straddle": "ATM call + put, short (sell volatility) or long (buy it).",
    "strangle": "OTM put + call, short or long.",
}

for _name in OPTION_STRATEGIES:
    register(
        StrategySpec(
            _name,
            _DESCRIPTIONS[_name],
            option_params(_name),
            _no_signals,
            kind="options",
            fill_at_close=True,  # premiums are priced on the entry bar's close and traded there
            tags=("options",),
        )
    )
