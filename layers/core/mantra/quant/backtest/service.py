"""The backtest job service: ``run_backtest_job(spec) -> BacktestResult``, for the HTTP job runner.

Input (``BacktestJobSpec``) and output (``BacktestResult``) are pydantic models that round-trip through JSON.
Money that reaches users is **integer paise** (``*_paise``), like the rest of the platform (``mantra.money``);
ratios (returns, Sharpe, drawdown) are floats; fractions in the spec (commission, stops) are Decimal strings
so
``"0.002"`` means exactly 0.2 %.  Bars use the field names of ``mantra.domain.Candle`` (``start_ms``,
``open_paise``, ..., ``volume``), so candles can be passed as they are (extra fields are ignored).

Inside, the simulation runs in float rupees (numpy); figures are converted to paise at the edge, rounded half
to even.  Bad input raises ``BacktestJobError`` (a ``ValueError``) with a message meant for the user
(unknown parameters say "did you mean ..."); map it to HTTP 400/422.  The function does no I/O and takes no
clock: the job is a pure function of its spec (Monte Carlo is seeded from the spec), so a retried job gives
the
same result and idempotency can be keyed on ``job_id``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mantra.quant.backtest.api import BacktestRun, run_backtest
from mantra.quant.backtest.costs import (
    Brokerage,
    CostModel,
    FractionalCommission,
    Slippage,
    india_rates_as_of,
    indian_costs,
)
from mantra.quant.backtest.data import Bars, DataError, clean_rows, combine
from mantra.quant.backtest.engine import REASONS, BacktestConfig, BacktestError, Exits, Sizing
from mantra.quant.backtest.metrics import Metrics
from mantra.quant.strategies.registry import StrategyError

ENGINE_VERSION = "1"
MAX_BARS = 2_000_000
MAX_SERIES_POINTS = 5_000

Fraction = Annotated[Decimal, Field(ge=0, lt=1)]


class BacktestJobError(ValueError):
    """The job cannot run as specified; ``str(exc)`` is a message for the user."""


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BarIn(BaseModel):
    """One OHLCV bar in paise (the ``Candle`` field names; extra fields are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    start_ms: int = Field(gt=0, description="bar start, epoch milliseconds UTC")
    open_paise: int = Field(gt=0)
    high_paise: int = Field(gt=0)
    low_paise: int = Field(gt=0)
    close_paise: int = Field(gt=0)
    volume: int = Field(default=0, ge=0)


class SeriesIn(_In):
    symbol: str = Field(min_length=1, max_length=64, examples=["RELIANCE"])
    bars: list[BarIn] = Field(min_length=2, max_length=MAX_BARS)


class CostsIn(_In):
    """``india`` (default): the Indian statutory model for ``segment``; ``fractional``: ``commission`` x
    traded value per side; ``none``: no costs. ``brokerage_*`` override the Indian model's broker fees."""

    model: Literal["india", "fractional", "none"] = "india"
    segment: Literal["equity_delivery", "equity_intraday", "futures", "options"] = "equity_delivery"
    exchange: Literal["NSE", "BSE"] = "NSE"
    commission: Fraction = Decimal("0")
    brokerage_flat_paise: int | None = Field(default=None, ge=0)
    brokerage_pct: Fraction | None = None
    brokerage_cap_paise: int | None = Field(default=None, ge=0)
    slippage_bps: Annotated[Decimal, Field(ge=0, le=1000)] = Decimal("0")
    slippage_ticks: Annotated[Decimal, Field(ge=0, le=1000)] = Decimal("0")
    tick_size_paise: int = Field(default=5, gt=0)


class SizingIn(_In):
    mode: Literal["all_in", "percent_equity", "quantity", "risk", "vol_target"] = "all_in"
    value: Annotated[Decimal, Field(gt=0)] = Decimal("1")
    lot_size: int = Field(default=1, ge=1, description="F&O lot size: quantities are multiples of it")


class ExitsIn(_In):
    stop_loss: Annotated[Decimal, Field(gt=0, lt=1)] | None = None
    take_profit: Annotated[Decimal, Field(gt=0, lt=1)] | None = None
    trailing_stop: Annotated[Decimal, Field(gt=0, lt=1)] | None = None


class MonteCarloIn(_In):
    """``trades``: iid bootstrap of the closed trades; ``returns``: stationary bootstrap (Politis & Romano) of
    the per-bar returns with geometric blocks of mean ``mean_block_bars``; ``shuffle``: trade order only."""

    runs: int = Field(default=1000, ge=10, le=20_000)
    method: Literal["trades", "returns", "shuffle"] = "trades"
    mean_block_bars: int = Field(default=20, ge=1, le=10_000, description="returns: mean block length")
    seed: int = 0
    ruin_level: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.5")


class OptimizeIn(_In):
    """Grid search over ``grid`` (values as strings or numbers), ranked by ``metric``; with ``train_bars`` and
    ``test_bars`` a walk-forward validation too.  The backtest itself then runs with the best parameters."""

    grid: dict[str, list[str | int | float | bool]] = Field(min_length=1)
    metric: str = "sharpe"
    train_bars: int | None = Field(default=None, ge=20)
    test_bars: int | None = Field(default=None, ge=5)


class BacktestJobSpec(_In):
    """What to backtest.  Example::

    {"job_id": "bt-42", "strategy": "sma_cross", "params": {"fast": 10, "slow": 20},
     "series": [{"symbol": "INFY", "bars": [{"start_ms": 1704153600000, "open_paise": 150000,
                "high_paise": 151000, "low_paise": 149000, "close_paise": 150500, "volume": 1200}, ...]}],
     "cash_paise": 1000000, "costs": {"model": "fractional", "commission": "0.002"}}
    """

    job_id: str = Field(default="", max_length=128, description="echoed back; use it as the idempotency key")
    strategy: str = Field(examples=["sma_cross"])
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    series: list[SeriesIn] = Field(min_length=1, max_length=500)
    benchmark: SeriesIn | None = Field(default=None, description="e.g. NIFTY 50; aligned on the bars' times")
    cash_paise: int = Field(
        default=10_000_000, gt=0, description="starting cash (1,00,000 rupees by default)"
    )
    costs: CostsIn = Field(default_factory=CostsIn)
    sizing: SizingIn = Field(default_factory=SizingIn)
    exits: ExitsIn = Field(default_factory=ExitsIn)
    shared_cash: bool = Field(default=True, description="one cash balance for all symbols")
    risk_free: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0")
    drop_bad_bars: bool = Field(default=False, description="drop bars with invalid prices instead of failing")
    monte_carlo: MonteCarloIn | None = None
    optimize: OptimizeIn | None = None
    series_points: int = Field(default=1000, ge=10, le=MAX_SERIES_POINTS, description="max equity points")
    include_report_html: bool = False

    @field_validator("series")
    @classmethod
    def _unique_symbols(cls, v: list[SeriesIn]) -> list[SeriesIn]:
        names = [s.symbol for s in v]
        if len(set(names)) != len(names):
            raise ValueError("symbols must be unique")
        return v


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class MetricsOut(_Out):
    start_value_paise: int
    end_value_paise: int
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_bars: int
    max_drawdown_days: float
    trades: int
    open_trades: int
    win_rate: float | None
    profit_factor: float | None
    expectancy_paise: int | None
    avg_trade: float | None
    best_trade: float | None
    worst_trade: float | None
    avg_trade_bars: float | None
    exposure: float | None
    sqn: float | None
    total_costs_paise: int
    buy_and_hold_return: float | None
    benchmark_return: float | None
    alpha: float | None
    beta: float | None
    periods_per_year: float
    risk_free: float
    sharpe_definition: str


class TradeOut(_Out):
    symbol: str
    direction: Literal["long", "short"]
    qty: float
    entry_ms: int
    entry_price_paise: int
    exit_ms: int
    exit_price_paise: int
    costs_paise: int
    pnl_paise: int
    return_pct: float = Field(description="P&L / entry value, in percent")
    bars_held: int
    exit_reason: Literal["signal", "sl", "tp", "trail", "open"]


class EquityPoint(_Out):
    ts_ms: int
    equity_paise: int
    drawdown: float


class MonteCarloOut(_Out):
    method: str
    runs: int
    seed: int
    ruin_level: float
    prob_ruin: float
    prob_loss: float
    return_p5: float
    return_p50: float
    return_p95: float
    max_drawdown_p50: float
    max_drawdown_p95: float


class GridRowOut(_Out):
    params: dict[str, Any]
    score: float | None
    total_return: float
    max_drawdown: float
    trades: int


class WindowOut(_Out):
    train_start: str
    train_end: str
    test_start: str
    test_end: str
    params: dict[str, Any]
    in_sample: float | None
    out_of_sample: float | None
    oos_return: float


class OptimizeOut(_Out):
    metric: str
    top: list[GridRowOut]
    skipped: int
    walk_forward: list[WindowOut] | None = None
    walk_forward_summary: dict[str, float | None] | None = None


class BacktestResult(_Out):
    job_id: str
    strategy: str
    params: dict[str, Any]
    symbols: list[str]
    start_ms: int
    end_ms: int
    bars: int
    metrics: MetricsOut = Field(
        description="the portfolio: one cash balance, or (shared_cash false) the sum of the symbols' equity curves"
    )
    per_symbol_metrics: dict[str, MetricsOut] | None = Field(
        default=None, description="shared_cash false with several symbols: each symbol's own metrics"
    )
    trades: list[TradeOut]
    equity: list[EquityPoint] = Field(description="decimated to at most series_points points, ends included")
    monte_carlo: MonteCarloOut | None = None
    optimize: OptimizeOut | None = None
    payoff_svg: str | None = Field(default=None, description="option strategies: payoff diagram (inline SVG)")
    report_html: str | None = None
    warnings: list[str]
    engine_version: str = ENGINE_VERSION
    cost_rates_as_of: str


# --- mapping


def paise(rupees: float) -> int:
    return int(Decimal(repr(float(rupees))).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _f(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _series_bars(s: SeriesIn, drop_bad: bool) -> Bars:
    rows = np.array(
        [(b.open_paise, b.high_paise, b.low_paise, b.close_paise, b.volume) for b in s.bars], dtype=np.float64
    )
    rows[:, :4] /= 100.0
    idx = np.array([b.start_ms for b in s.bars], dtype="datetime64[ms]").astype("datetime64[s]")
    return clean_rows(idx, rows, s.symbol, lambda k: f"series {s.symbol} bar #{k}", drop_bad_rows=drop_bad)


def _costs(c: CostsIn) -> tuple[CostModel, Slippage]:
    slip = Slippage(
        ticks=float(c.slippage_ticks), tick_size=c.tick_size_paise / 100, bps=float(c.slippage_bps)
    )
    if c.model == "fractional":
        return FractionalCommission(float(c.commission)), slip
    if c.model == "none":
        return FractionalCommission(0.0), slip
    brok = None
    if c.brokerage_flat_paise is not None or c.brokerage_pct is not None:
        brok = Brokerage(
            flat=c.brokerage_flat_paise / 100 if c.brokerage_flat_paise is not None else None,
            pct=float(c.brokerage_pct) if c.brokerage_pct is not None else None,
            cap=c.brokerage_cap_paise / 100 if c.brokerage_cap_paise is not None else None,
        )
    return indian_costs(c.segment, c.exchange, brok), slip


def _decimate_idx(n: int, k: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    if n <= k:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


def _ms(ts: np.datetime64) -> int:
    return int(ts.astype("datetime64[ms]").astype(np.int64))


def run_backtest_job(spec: BacktestJobSpec) -> BacktestResult:
    """Run one backtest job (see the module docstring).  Raises ``BacktestJobError`` for bad input."""
    try:
        return _run(spec)
    except (DataError, StrategyError, BacktestError) as exc:
        raise BacktestJobError(str(exc)) from None
    except ValueError as exc:  # numeric validation inside the engine
        raise BacktestJobError(str(exc)) from None


def _run(spec: BacktestJobSpec) -> BacktestResult:
    parts = [_series_bars(s, spec.drop_bad_bars) for s in spec.series]
    bars = parts[0] if len(parts) == 1 else combine(parts)
    if len(parts) > 1:
        bars = Bars(
            bars.index,
            bars.open,
            bars.high,
            bars.low,
            bars.close,
            bars.volume,
            bars.symbols,
            tuple(w for b in parts for w in (f"{b.symbols[0]}: {x}" for x in b.warnings)),
        )
    bench = None
    if spec.benchmark is not None:
        b = _series_bars(spec.benchmark, spec.drop_bad_bars)
        pos = np.clip(np.searchsorted(b.index, bars.index), 0, b.n_bars - 1)
        if not np.array_equal(b.index[pos], bars.index):
            raise BacktestJobError(
                f"benchmark {spec.benchmark.symbol} does not cover every bar of the series"
            )
        bench = b.close[pos, 0]
    costs, slip = _costs(spec.costs)
    cfg = BacktestConfig(
        cash=spec.cash_paise / 100,
        costs=costs,
        slippage=slip,
        sizing=Sizing(spec.sizing.mode, float(spec.sizing.value)),
        exits=Exits(
            float(spec.exits.stop_loss) if spec.exits.stop_loss is not None else None,
            float(spec.exits.take_profit) if spec.exits.take_profit is not None else None,
            float(spec.exits.trailing_stop) if spec.exits.trailing_stop is not None else None,
        ),
        lot_size=spec.sizing.lot_size,
        shared_cash=spec.shared_cash,
        risk_free=float(spec.risk_free),
    )
    params: dict[str, Any] = dict(spec.params)
    opt_out = None
    if spec.optimize is not None:
        opt_out, params = _optimize(bars, spec, cfg, params)
    run = run_backtest(bars, spec.strategy, params, cfg, benchmark=bench)
    mc_out = None
    if spec.monte_carlo is not None:
        from mantra.quant.backtest.montecarlo import monte_carlo

        mc = monte_carlo(
            run,
            n=spec.monte_carlo.runs,
            method=spec.monte_carlo.method,
            seed=spec.monte_carlo.seed,
            ruin=float(spec.monte_carlo.ruin_level),
            block=spec.monte_carlo.mean_block_bars,
        )
        rq, dq = mc.return_quantiles, mc.drawdown_quantiles
        mc_out = MonteCarloOut(
            method=mc.method,
            runs=mc.n,
            seed=mc.seed,
            ruin_level=mc.ruin_level,
            prob_ruin=mc.prob_ruin,
            prob_loss=float(np.mean(mc.returns < 0)),
            return_p5=rq[0],
            return_p50=rq[1],
            return_p95=rq[2],
            max_drawdown_p50=dq[0],
            max_drawdown_p95=dq[1],
        )
    report = None
    if spec.include_report_html:
        from mantra.quant.backtest.report import render_html

        report = render_html(run, None)
    return _result(spec, run, mc_out, opt_out, report)


def _optimize(
    bars: Bars, spec: BacktestJobSpec, cfg: BacktestConfig, params: dict[str, Any]
) -> tuple[OptimizeOut, dict[str, Any]]:
    from mantra.quant.backtest.optimize import expand_grid, grid_search, walk_forward

    opt = spec.optimize
    assert opt is not None
    grid: dict[str, list[object]] = {k: [v] for k, v in params.items() if k not in opt.grid}
    grid.update({k: list(v) for k, v in opt.grid.items()})
    if len(expand_grid(grid)) > 2_000:
        raise BacktestJobError("the grid has more than 2,000 combinations")
    wf_rows = wf_sum = None
    if opt.train_bars is not None or opt.test_bars is not None:
        if opt.train_bars is None or opt.test_bars is None:
            raise BacktestJobError("walk-forward needs both train_bars and test_bars")
        wf = walk_forward(
            bars, spec.strategy, grid, cfg, train=opt.train_bars, test=opt.test_bars, metric=opt.metric
        )
        wf_rows = [
            WindowOut(
                train_start=w.train[0],
                train_end=w.train[1],
                test_start=w.test[0],
                test_end=w.test[1],
                params=w.params,
                in_sample=_f(w.in_sample),
                out_of_sample=_f(w.out_of_sample),
                oos_return=w.oos_return,
            )
            for w in wf.windows
        ]
        wf_sum = {k: _f(v) for k, v in wf.summary.items()}
    gr = grid_search(bars, spec.strategy, grid, cfg, metric=opt.metric)
    top = [
        GridRowOut(
            params=r["params"],
            score=_f(r["score"]),
            total_return=r["total_return"],
            max_drawdown=r["max_drawdown"],
            trades=r["trades"],
        )
        for r in gr.rows[:20]
    ]
    out = OptimizeOut(
        metric=opt.metric, top=top, skipped=gr.skipped, walk_forward=wf_rows, walk_forward_summary=wf_sum
    )
    return out, gr.best


def _result(
    spec: BacktestJobSpec,
    run: BacktestRun,
    mc: MonteCarloOut | None,
    opt: OptimizeOut | None,
    report: str | None,
) -> BacktestResult:
    idx = run.bars.index
    tr = run.sim.trades
    trades = [
        TradeOut(
            symbol=run.bars.symbols[int(tr.symbol[k])],
            direction="long" if tr.direction[k] > 0 else "short",
            qty=float(tr.qty[k]),
            entry_ms=_ms(idx[int(tr.entry_bar[k])]),
            entry_price_paise=paise(tr.entry_price[k]),
            exit_ms=_ms(idx[int(tr.exit_bar[k])]),
            exit_price_paise=paise(tr.exit_price[k]),
            costs_paise=paise(tr.costs[k]),
            pnl_paise=paise(tr.pnl[k]),
            return_pct=float(tr.ret[k]) * 100,
            bars_held=int(tr.exit_bar[k] - tr.entry_bar[k]),
            exit_reason=REASONS[int(tr.reason[k])],
        )
        for k in range(tr.n)
    ]
    eq, dd = run.equity, run.drawdown
    keep = _decimate_idx(eq.shape[0], spec.series_points)
    equity = [EquityPoint(ts_ms=_ms(idx[i]), equity_paise=paise(eq[i]), drawdown=float(dd[i])) for i in keep]
    return BacktestResult(
        job_id=spec.job_id,
        strategy=run.strategy,
        params=run.params,
        symbols=list(run.bars.symbols),
        start_ms=_ms(idx[0]),
        end_ms=_ms(idx[-1]),
        bars=run.bars.n_bars,
        metrics=_metrics_out(run.metrics),
        per_symbol_metrics={k: _metrics_out(v) for k, v in run.per_symbol.items()} or None,
        trades=trades,
        equity=equity,
        monte_carlo=mc,
        optimize=opt,
        payoff_svg=run.extras.get("payoff_svg"),
        report_html=report,
        warnings=list(run.bars.warnings),
        cost_rates_as_of=india_rates_as_of(),
    )


def _metrics_out(m: Metrics) -> MetricsOut:
    return MetricsOut(
        start_value_paise=paise(m.start_value),
        end_value_paise=paise(m.end_value),
        total_return=m.total_return,
        cagr=_f(m.cagr),
        volatility=_f(m.volatility),
        sharpe=_f(m.sharpe),
        sortino=_f(m.sortino),
        calmar=_f(m.calmar),
        max_drawdown=m.max_drawdown,
        max_drawdown_bars=m.max_drawdown_bars,
        max_drawdown_days=m.max_drawdown_days,
        trades=m.trades,
        open_trades=m.open_trades,
        win_rate=_f(m.win_rate),
        profit_factor=_f(m.profit_factor),
        expectancy_paise=paise(m.expectancy) if np.isfinite(m.expectancy) else None,
        avg_trade=_f(m.avg_trade),
        best_trade=_f(m.best_trade),
        worst_trade=_f(m.worst_trade),
        avg_trade_bars=_f(m.avg_trade_bars),
        exposure=_f(m.exposure),
        sqn=_f(m.sqn),
        total_costs_paise=paise(m.total_costs),
        buy_and_hold_return=_f(m.buy_and_hold_return),
        benchmark_return=_f(m.benchmark_return),
        alpha=_f(m.alpha),
        beta=_f(m.beta),
        periods_per_year=m.periods_per_year,
        risk_free=m.risk_free,
        sharpe_definition=m.sharpe_definition,
    )
