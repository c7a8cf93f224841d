"""``mantra history``: load the exchange's daily reports into the running platform, and see what is stored.

mantra history load ../shared/data/nse/equity          # a folder (recursively) or files, any report kind
mantra history load ../shared/data/nse/fo              # F&O reports: contracts, lot sizes, the fno universe
mantra history status RELIANCE                        # bars, first and last session, missing sessions
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Real price history: load NSE daily reports (bhavcopies in any layout and F&O bhavcopies, recognised"
    " from their content; corporate-action files are recognised) into the running platform, and show a"
    " symbol's coverage.",
    no_args_is_help=True,
)


@app.command("load")
def load(
    paths: Annotated[
        list[Path], typer.Argument(help="report files or folders (searched recursively)", exists=True)
    ],
    force: Annotated[bool, typer.Option("--force", help="load files again even if loaded before")] = False,
) -> None:
    """Load reports into the running platform's store. A file loaded before (same content) is skipped;
    loading it again (--force) writes the same candles and changes nothing."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mantra.cli.store import candle_store
    from mantra.clock import SystemClock
    from mantra.market.eod import EodLoader, FileLoad, report_files
    from mantra.store.corporate_action_repository import DynamoCorporateActions
    from mantra.store.fo_repository import DynamoEqHistory, DynamoFoStore
    from mantra.store.history_repository import DynamoHistoryLoads

    candles = candle_store()
    files = report_files(paths)
    console = Console()
    with Progress(
        TextColumn("[bold]loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[name]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("load", total=len(files), name="")

        def step(one: FileLoad) -> None:
            bar.update(task, advance=1, name=Path(one.path).name)

        loads = None if force else DynamoHistoryLoads()
        loader = EodLoader(
            candles, loads=loads, fo=DynamoFoStore(), eq=DynamoEqHistory(), factors=DynamoCorporateActions()
        )
        report = loader.load(files, step, SystemClock().now_ms())
    sessions = sorted({d for f in report.files for d in f.sessions})
    span = f" ({sessions[0].isoformat()} to {sessions[-1].isoformat()})" if sessions else ""
    done = [f for f in report.files if f.already_loaded]
    contracts = f" and {report.contracts:,} F&O contracts" if report.contracts else ""
    console.print(
        f"loaded {report.candles:,} daily candles{contracts} from {len(report.files) - len(report.failed) - len(done)} of"
        f" {len(report.files)} files, {len(sessions)} sessions{span}"
        + (f"; {len(done)} files were loaded before (--force loads them again)" if done else "")
    )
    factors = sum(f.factors for f in report.files)
    if factors:
        console.print(
            f"stored {factors:,} corporate-action factors (daily bars are adjusted for them on read)"
        )
    skipped = [f for f in report.files if f.skipped_rows]
    for f in skipped:
        console.print(
            f"[yellow]recognised, not stored yet:[/] {escape(f.path)} ({f.kind}, {f.skipped_rows} rows)"
        )
    for p in report.problems[:20]:
        console.print(f"[yellow]problem:[/] {escape(str(p))}")
    if len(report.problems) > 20:
        console.print(f"[yellow]... and {len(report.problems) - 20} more problems[/]")
    for f in report.failed:
        console.print(f"[bold red]not loaded:[/] {escape(f.error or f.path)}")
    if report.failed:
        raise typer.Exit(1)


@app.command("status")
def status(
    symbol: Annotated[str, typer.Argument(help="e.g. RELIANCE (its EQ series) or RELIANCE-BE")],
    tf: Annotated[str, typer.Option("--tf", help="timeframe")] = "1d",
) -> None:
    """How much history the store holds for a symbol, and which sessions it lacks."""
    from rich.console import Console
    from rich.table import Table

    from mantra.backtests.bars import StoredBars
    from mantra.cli.store import candle_store
    from mantra.clock import SystemClock, ist_from_ms
    from mantra.market.adjustments import exchange_symbol
    from mantra.store.corporate_action_repository import DynamoCorporateActions

    candles = candle_store()
    wanted = symbol.strip().upper()
    now = SystemClock().now_ms()
    newest = candles.latest(wanted, tf, now, 1)
    console = Console()
    if not newest:
        console.print(
            f"[yellow]{wanted}: no stored {tf} bars[/] — load its history with `mantra history load`"
        )
        raise typer.Exit(1)
    oldest = candles.range(wanted, tf, 0, now, 1)
    first: date = ist_from_ms(oldest[0].start_ms).date()
    last: date = ist_from_ms(newest[0].start_ms).date()
    held = StoredBars(candles).load(wanted, tf, first, last)
    table = Table(title=f"{wanted} · {tf}", show_header=False)
    table.add_row("bars", f"{len(held.bars):,}")
    table.add_row("first session", first.isoformat())
    table.add_row("last session", last.isoformat())
    table.add_row("sources", ", ".join(sorted({c.source for c in held.bars})))
    if tf == "1d":
        table.add_row("trading sessions in that span", f"{held.expected_sessions:,}")
        shown = ", ".join(d.isoformat() for d in held.missing[:12]) + (
            " ..." if len(held.missing) > 12 else ""
        )
        table.add_row("missing sessions", f"{len(held.missing)}" + (f": {shown}" if held.missing else ""))
    actions = sorted(
        (f for f in DynamoCorporateActions().all() if f.symbol == exchange_symbol(wanted)),
        key=lambda f: f.ex_date,
    )
    table.add_row(
        "corporate actions (adjusted on read)",
        "; ".join(f"{f.ex_date.isoformat()} {f.purpose} (x{float(f.ratio):g})" for f in actions)
        or "none stored",
    )
    console.print(table)
