"""Performance and risk metrics of one equity curve and its trades.

Definitions (also returned in ``Metrics.definitions`` so every output states them):

* per-bar returns r_t = E_t / E_{t-1} - 1 with E_{-1} = starting cash;
* Sharpe = mean(r - rf/P) / std(r, ddof=1) x sqrt(P), P = periods per year (252 for daily bars), rf the annual
  risk-free rate (0 unless given) - the usual annualised per-bar Sharpe, not annualised-return /
  annualised-vol;
* Sortino = mean(r - rf/P) / sqrt(mean(min(r - rf/P, 0)^2)) x sqrt(P);
* CAGR = (E_end / cash)^(1/years) - 1, years = calendar days / 365.25;
* max drawdown = min over t of E_t / max_{s<=t} E_s - 1 (peak includes the starting cash); duration = the
  longest
  stretch of bars (and calendar days) spent below a previous peak;
* Calmar = CAGR / |max drawdown|;
* trade statistics over closed trades: win rate, profit factor = gross profit / gross loss, expectancy = mean
  P&L per trade in rupees (net of costs), average trade = mean return per trade, SQN = sqrt(n) x mean(P&L) /
  std(P&L, ddof=1);
* exposure = share of bars with a position open at the close;
* beta = cov(r, r_b) / var(r_b) on per-bar returns, alpha = (mean(r) - beta x mean(r_b)) x P (annualised
  Jensen's
  alpha with rf = 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from mantra.quant.backtest.data import FloatArray
from mantra.quant.backtest.engine import TradeTable

SHARPE_DEFINITION = (
    "Sharpe = mean(per-bar return - rf/P) / std(per-bar return, ddof=1) * sqrt(P); "
    "P = periods per year, rf = annual risk-free rate"
)


@dataclass(frozen=True)
class Metrics:
    start_value: float
    end_value: float
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_bars: int
    max_drawdown_days: float
    trades: int
    open_trades: int
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_trade: float
    best_trade: float
    worst_trade: float
    avg_trade_bars: float
    exposure: float
    sqn: float
    total_costs: float
    buy_and_hold_return: float
    benchmark_return: float | None
    alpha: float | None
    beta: float | None
    periods_per_year: float
    risk_free: float
    sharpe_definition: str = SHARPE_DEFINITION

    def as_dict(self) -> dict[str, float | int | str | None]:
        d = asdict(self)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def returns_of(equity: FloatArray, start: float) -> FloatArray:
    prev = np.concatenate([[start], equity[:-1]])
    return equity / prev - 1.0


def drawdown_series(equity: FloatArray, start: float) -> FloatArray:
    peak = np.maximum.accumulate(np.concatenate([[start], equity]))[1:]
    return equity / peak - 1.0


def _longest_underwater(dd: FloatArray, index: NDArray[np.datetime64]) -> tuple[int, float]:
    under = dd < -1e-12
    if not under.any():
        return 0, 0.0
    # run lengths of consecutive True
    d = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)  # exclusive
    lens = ends - starts
    k = int(np.argmax(lens))
    s, e = int(starts[k]), int(ends[k])
    t0 = index[max(s - 1, 0)]
    t1 = index[min(e, index.shape[0] - 1)]
    days = float((t1 - t0) / np.timedelta64(1, "D"))
    return int(lens[k]), days


def compute_metrics(
    equity: FloatArray,
    start: float,
    index: NDArray[np.datetime64],
    trades: TradeTable,
    *,
    position: FloatArray | None = None,
    close: FloatArray | None = None,
    benchmark: FloatArray | None = None,
    periods_per_year: float = 252.0,
    risk_free: float = 0.0,
) -> Metrics:
    eq = np.asarray(equity, dtype=np.float64)
    p = float(periods_per_year)
    r = returns_of(eq, start)
    ex = r - risk_free / p
    sd = float(np.std(r, ddof=1)) if r.size > 1 else 0.0
    sharpe = float(np.mean(ex) / sd * math.sqrt(p)) if sd > 0 else math.nan
    down = math.sqrt(float(np.mean(np.minimum(ex, 0.0) ** 2)))
    sortino = float(np.mean(ex) / down * math.sqrt(p)) if down > 0 else math.nan
    total = float(eq[-1] / start - 1.0)
    days = float((index[-1] - index[0]) / np.timedelta64(1, "D")) if index.shape[0] > 1 else 0.0
    years = days / 365.25 if days > 0 else eq.size / p
    cagr = (eq[-1] / start) ** (1.0 / years) - 1.0 if years > 0 and eq[-1] > 0 else -1.0
    dd = drawdown_series(eq, start)
    mdd = float(dd.min())
    mdd_bars, mdd_days = _longest_underwater(dd, index)
    calmar = float(cagr / abs(mdd)) if mdd < 0 else math.nan
    closed = trades.select(trades.closed)
    n = closed.n
    pnl = closed.pnl
    wins = pnl[pnl > 0]
    losses = pnl[pnl < 0]
    gross_loss = float(-losses.sum())
    pf = float(wins.sum() / gross_loss) if gross_loss > 0 else (math.inf if wins.size else math.nan)
    sqn = float(math.sqrt(n) * pnl.mean() / np.std(pnl, ddof=1)) if n > 1 and np.std(pnl) > 0 else math.nan
    exposure = float(np.mean(np.any(position != 0, axis=1))) if position is not None else math.nan
    bh = float(np.mean(close[-1] / close[0]) - 1.0) if close is not None else math.nan
    alpha = beta = bench_ret = None
    if benchmark is not None:
        b = np.asarray(benchmark, dtype=np.float64).reshape(-1)
        if b.shape[0] != eq.shape[0]:
            raise ValueError(f"benchmark has {b.shape[0]} bars, equity has {eq.shape[0]}")
        rb = np.concatenate([[0.0], b[1:] / b[:-1] - 1.0])
        var = float(np.var(rb, ddof=1))
        bench_ret = float(b[-1] / b[0] - 1.0)
        if var > 0:
            beta = float(np.cov(r, rb, ddof=1)[0, 1] / var)
            alpha = float((np.mean(r) - beta * np.mean(rb)) * p)
    return Metrics(
        start_value=float(start),
        end_value=float(eq[-1]),
        total_return=total,
        cagr=float(cagr),
        volatility=sd * math.sqrt(p),
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar,
        max_drawdown=mdd,
        max_drawdown_bars=mdd_bars,
        max_drawdown_days=mdd_days,
        trades=n,
        open_trades=int(trades.n - n),
        win_rate=float(wins.size / n) if n else math.nan,
        profit_factor=pf,
        expectancy=float(pnl.mean()) if n else math.nan,
        avg_trade=float(closed.ret.mean()) if n else math.nan,
        best_trade=float(closed.ret.max()) if n else math.nan,
        worst_trade=float(closed.ret.min()) if n else math.nan,
        avg_trade_bars=float(np.mean(closed.exit_bar - closed.entry_bar)) if n else math.nan,
        exposure=exposure,
        sqn=sqn,
        total_costs=float(trades.costs.sum()),
        buy_and_hold_return=bh,
        benchmark_return=bench_ret,
        alpha=alpha,
        beta=beta,
        periods_per_year=p,
        risk_free=risk_free,
    )
