"""``mantra backtest``: run a library strategy on an OHLCV CSV; a summary table, JSON, or an HTML report.

Registered by the main app as ``app.command("backtest")(backtest)``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mantra.quant.backtest.engine import BacktestConfig


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"Error: {msg}", err=True)
    return typer.Exit(code=2)


def backtest(
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="strategy name, e.g. sma_cross")
    ] = "sma_cross",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, repeatable")] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            "-d",
            help="OHLCV CSV (columns Date, Open, High, Low, Close, Volume); repeat for a multi-symbol portfolio",
        ),
    ] = None,
    cash: Annotated[float, typer.Option(help="starting cash (rupees)")] = 100_000.0,
    commission: Annotated[
        float | None,
        typer.Option(
            help="fractional commission per side, e.g. 0.002 = 0.2 %; replaces the Indian cost model"
        ),
    ] = None,
    segment: Annotated[
        str,
        typer.Option(help="Indian cost model segment: equity_delivery, equity_intraday, futures, options"),
    ] = "equity_delivery",
    slippage_bps: Annotated[float, typer.Option(help="slippage in basis points per fill")] = 0.0,
    sizing: Annotated[
        str, typer.Option(help="all_in, percent_equity, quantity, risk, vol_target")
    ] = "all_in",
    size: Annotated[
        float, typer.Option(help="value for the sizing mode (fraction, quantity, risk %, vol)")
    ] = 1.0,
    lot_size: Annotated[int, typer.Option(help="F&O lot size (quantities are multiples of it)")] = 1,
    sl: Annotated[
        float | None, typer.Option(help="stop-loss as a fraction of the entry (0.05 = 5 %)")
    ] = None,
    tp: Annotated[float | None, typer.Option(help="take-profit as a fraction of the entry")] = None,
    trail: Annotated[float | None, typer.Option(help="trailing stop as a fraction")] = None,
    benchmark: Annotated[
        Path | None, typer.Option(help="benchmark OHLCV CSV (e.g. NIFTY 50) for alpha/beta")
    ] = None,
    chain: Annotated[
        Path | None,
        typer.Option(
            help="option chain CSV (columns Date, Expiry, Strike, Type, Close) to price option strategies; "
            "quotes missing from it fall back to Black-Scholes"
        ),
    ] = None,
    drop_bad_rows: Annotated[
        bool, typer.Option(help="drop rows with NaN/invalid prices instead of failing")
    ] = False,
    monte_carlo: Annotated[int, typer.Option("--monte-carlo", help="Monte Carlo runs (0 = none)")] = 0,
    seed: Annotated[int, typer.Option(help="random seed for Monte Carlo")] = 42,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="optimise: NAME=v1,v2 or a range NAME=lo:hi:step, repeatable"),
    ] = None,
    walk_forward: Annotated[
        str | None,
        typer.Option("--walk-forward", help="TRAIN:TEST bars, with --grid: walk-forward validation"),
    ] = None,
    metric: Annotated[
        str, typer.Option(help="metric to optimise (sharpe, total_return, calmar, ...)")
    ] = "sharpe",
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON (metrics + trades) instead of a table")
    ] = False,
    report: Annotated[Path | None, typer.Option(help="write a self-contained HTML report here")] = None,
) -> None:
    """Backtest a strategy on OHLCV data (decisions on the close, fills at the next open by default)."""
    # imported here so that registering the command does not load numpy for every other command
    from mantra.quant.backtest.costs import FractionalCommission, Slippage, indian_costs
    from mantra.quant.backtest.data import DataError, load_csv
    from mantra.quant.backtest.engine import BacktestConfig, BacktestError, Exits, Sizing
    from mantra.quant.strategies.registry import StrategyError, parse_param_pairs

    try:
        if not data:
            raise _fail("--data FILE.csv is required")
        params = parse_param_pairs(param)
        frames = [load_csv(p, drop_bad_rows=drop_bad_rows) for p in data]
        if len(frames) == 1:
            bars = frames[0]
        else:
            from mantra.quant.backtest.data import combine

            bars = combine(frames)
        bench_arr = None
        if benchmark is not None:
            import numpy as np

            b = load_csv(benchmark, drop_bad_rows=drop_bad_rows)
            pos = np.searchsorted(b.index, bars.index)
            pos = np.clip(pos, 0, b.n_bars - 1)
            if not np.array_equal(b.index[pos], bars.index):
                raise _fail(f"benchmark {benchmark} does not cover every date of the data")
            bench_arr = b.close[pos, 0]
        costs = FractionalCommission(commission) if commission is not None else indian_costs(segment)
        cfg = BacktestConfig(
            cash=cash,
            costs=costs,
            slippage=Slippage(bps=slippage_bps),
            sizing=Sizing(sizing, size),  # type: ignore[arg-type]
            exits=Exits(sl, tp, trail),
            lot_size=lot_size,
        )
        extra: dict[str, Any] = {}
        if walk_forward and not grid:
            raise _fail("--walk-forward needs --grid NAME=values")
        if grid:
            from mantra.quant.backtest.optimize import (
                expand_grid,
                grid_search,
                parse_grid,
            )
            from mantra.quant.backtest.optimize import (
                walk_forward as wf_fn,
            )

            g = parse_grid(grid)
            fixed = {k: [v] for k, v in params.items() if k not in g}
            full_grid: dict[str, list[str]] = {**fixed, **g}
            n = len(expand_grid(full_grid))
            if walk_forward:
                try:
                    tr_s, te_s = walk_forward.split(":")
                    train_n, test_n = int(tr_s), int(te_s)
                except ValueError:
                    raise _fail(f"--walk-forward takes TRAIN:TEST bar counts, got {walk_forward!r}") from None
                n_win = max(0, (bars.n_bars - train_n - test_n) // test_n + 1)
                wf = _with_progress(
                    "Walk-forward",
                    max(n * n_win, 1),
                    as_json,
                    lambda cb: wf_fn(
                        bars, strategy, full_grid, cfg, train=train_n, test=test_n, metric=metric, progress=cb
                    ),
                )
                extra["walk_forward"] = wf
            gr = _with_progress(
                "Grid search",
                n,
                as_json,
                lambda cb: grid_search(bars, strategy, full_grid, cfg, metric=metric, progress=cb),
            )
            extra["grid"] = gr
            params = {k: str(v) for k, v in gr.best.items()}
        run = _run_with_progress(bars, strategy, params, cfg, bench_arr, quiet=as_json, chain=chain)
        mc = None
        if monte_carlo > 0:
            from mantra.quant.backtest.montecarlo import monte_carlo as mc_fn

            mc = _with_progress(
                "Monte Carlo",
                monte_carlo,
                as_json,
                lambda cb: mc_fn(run, n=monte_carlo, seed=seed, progress=cb),
            )
        if report is not None:
            from mantra.quant.backtest.report import render_html

            report.write_text(render_html(run, mc), encoding="utf-8")
    except typer.Exit:
        raise
    except (DataError, StrategyError, BacktestError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # a bug: still one line for the user, and a non-zero exit
        typer.echo(
            f"Error: internal error in the backtest ({type(exc).__name__}: {exc}); please report it", err=True
        )
        raise typer.Exit(code=1) from None
    if as_json:
        out: dict[str, Any] = run.to_dict()
        if mc is not None:
            out["monte_carlo"] = mc.to_dict()
        if "grid" in extra:
            out["grid"] = {"metric": metric, "top": extra["grid"].rows[:20], "skipped": extra["grid"].skipped}
        if "walk_forward" in extra:
            out["walk_forward"] = extra["walk_forward"].to_dict()
        typer.echo(json.dumps(out, indent=2, default=_json_default, allow_nan=False))
    else:
        _print_optimisation(extra, metric)
        _print_summary(run, mc)
        if report is not None:
            typer.echo(f"report written to {report}")


def _json_default(o: object) -> object:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return str(o)


def _run_with_progress(
    bars: Any,
    strategy: str,
    params: dict[str, str],
    cfg: BacktestConfig,
    bench: Any,
    quiet: bool,
    chain: Path | None = None,
) -> Any:
    from mantra.quant.backtest.api import run_backtest

    pricer = None
    if chain is not None:
        from mantra.quant.strategies.options import BlackScholesPricer, load_chain_csv

        pricer = load_chain_csv(chain, bars, fallback=BlackScholesPricer(bars.close[:, 0]))
    return run_backtest(bars, strategy, params, cfg, benchmark=bench, pricer=pricer)


def _with_progress(label: str, total: int, quiet: bool, fn: Any) -> Any:
    if quiet or total < 50 or not sys.stderr.isatty():
        return fn(None)
    from rich.progress import Progress

    with Progress(transient=True) as prog:
        task = prog.add_task(label, total=total)
        return fn(lambda k: prog.update(task, completed=k))


def _print_optimisation(extra: dict[str, Any], metric: str) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    if "grid" in extra:
        gr = extra["grid"]
        t = Table(
            title=f"Grid search by {metric} (top 10 of {len(gr.rows)}, {gr.skipped} invalid skipped)",
            title_justify="left",
        )
        for col in ("params", metric, "return", "max DD", "trades"):
            t.add_column(col, justify="left" if col == "params" else "right", overflow="fold")
        for r in gr.rows[:10]:
            t.add_row(
                " ".join(f"{k}={v}" for k, v in r["params"].items()),
                f"{r['score']:.3f}",
                f"{r['total_return'] * 100:.1f}%",
                f"{r['max_drawdown'] * 100:.1f}%",
                str(r["trades"]),
            )
        con.print(t)
    if "walk_forward" in extra:
        wf = extra["walk_forward"]
        t = Table(title="Walk-forward (optimise on train, trade unseen test)", title_justify="left")
        for col in ("train", "test", "best params", f"IS {metric}", f"OOS {metric}", "OOS return"):
            t.add_column(col, justify="right" if "IS" in col or "OOS" in col else "left", overflow="fold")
        for w in wf.windows:
            t.add_row(
                f"{w.train[0]}..{w.train[1]}",
                f"{w.test[0]}..{w.test[1]}",
                " ".join(f"{k}={v}" for k, v in w.params.items()),
                f"{w.in_sample:.2f}",
                f"{w.out_of_sample:.2f}",
                f"{w.oos_return * 100:.1f}%",
            )
        con.print(t)
        sm = wf.summary
        con.print(
            f"mean IS {metric} {sm['mean_in_sample']:.2f}, mean OOS {sm['mean_out_of_sample']:.2f}, "
            f"efficiency {sm['efficiency']:.2f} (near 1 = robust, near 0 = overfitted); "
            f"chained OOS return {sm['oos_total_return'] * 100:.1f}%"
        )


def _print_summary(run: Any, mc: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from mantra.quant.backtest.api import fmt_pct

    m = run.metrics
    con = Console()
    ps = " ".join(f"{k}={v}" for k, v in run.params.items())
    title = f"{run.strategy} {ps} on {', '.join(run.bars.symbols)}"
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column("metric", style="bold", overflow="fold")
    t.add_column("value", justify="right", overflow="fold")

    def num(x: float | None, fmt: str = "{:.2f}") -> str:
        return "-" if x is None or not math.isfinite(x) else fmt.format(x)

    rows = [
        (
            "Period",
            f"{str(run.bars.index[0])[:10]} .. {str(run.bars.index[-1])[:10]} ({run.bars.n_bars} bars)",
        ),
        ("Start / end value", f"{m.start_value:,.2f} / {m.end_value:,.2f}"),
        ("Total return", fmt_pct(m.total_return)),
        ("Buy & hold return", fmt_pct(m.buy_and_hold_return)),
        ("CAGR", fmt_pct(m.cagr)),
        ("Volatility (ann.)", fmt_pct(m.volatility)),
        ("Sharpe", num(m.sharpe)),
        ("Sortino", num(m.sortino)),
        ("Calmar", num(m.calmar)),
        (
            "Max drawdown",
            f"{fmt_pct(m.max_drawdown)} ({m.max_drawdown_bars} bars, {m.max_drawdown_days:.0f} days)",
        ),
        ("Trades (closed / open)", f"{m.trades} / {m.open_trades}"),
        ("Win rate", fmt_pct(m.win_rate)),
        ("Profit factor", num(m.profit_factor)),
        ("Expectancy (Rs/trade)", num(m.expectancy, "{:,.2f}")),
        ("Average trade", fmt_pct(m.avg_trade)),
        ("Exposure", fmt_pct(m.exposure)),
        ("SQN", num(m.sqn)),
        ("Costs paid", f"{m.total_costs:,.2f}"),
    ]
    if m.beta is not None:
        rows += [
            ("Benchmark return", fmt_pct(m.benchmark_return)),
            ("Alpha (ann.)", fmt_pct(m.alpha)),
            ("Beta", num(m.beta)),
        ]
    if mc is not None:
        rows += [
            ("MC return p5 / p50 / p95", " / ".join(fmt_pct(x) for x in mc.return_quantiles)),
            ("MC max DD p50 / p95", " / ".join(fmt_pct(x) for x in mc.drawdown_quantiles)),
            ("MC probability of ruin", fmt_pct(mc.prob_ruin)),
        ]
    for k, v in rows:
        t.add_row(k, v)
    con.print(t)
    con.print(f"[dim]{m.sharpe_definition}[/dim]")
    for w in run.bars.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")
