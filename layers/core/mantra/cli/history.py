"""``mantra history``: load the exchange's daily reports into the running platform, and see what is stored.

mantra history load ../shared/data/nse/equity          # a folder (recursively) or files, any report kind
mantra history load ../shared/data/nse/fo              # F&O reports: contracts, lot sizes, the fno universe
mantra history status RELIANCE                        # bars, first and last session, missing sessions
mantra history backfill SBIN --days 5                  # 1-minute bars of the last 5 sessions from the broker
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


@app.command("backfill")
def backfill(
    symbol: Annotated[str, typer.Argument(help="an instrument the instrument master knows, e.g. SBIN")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=250, help="trading sessions, today's once it has opened")
    ] = 5,
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="kite or angel; default: the first broker in MANTRA_FEED_PROVIDER"),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="backfill up to this moment (ISO 8601 with offset) instead of now"),
    ] = None,
) -> None:
    """Fill the in-session minutes of the last N sessions that hold no bar with the broker's 1-minute history
    (Kite Connect historical data or SmartAPI getCandleData, credentials from the broker secret). Stored bars
    are kept; running it again asks only for minutes still missing and writes nothing new."""
    from functools import partial

    from rich.console import Console
    from rich.table import Table

    from mantra.cli.main import _local_env
    from mantra.cli.store import candle_store
    from mantra.clock import ManualClock, SystemClock, ist_from_ms, parse_instant
    from mantra.feed.providers.history import BROKERS, broker_history
    from mantra.market.history_repair import HistoryRepair
    from mantra.settings import Settings
    from mantra.store.aws import read_secret
    from mantra.store.repositories import DynamoInstrumentRepository

    err = Console(stderr=True)
    candles = candle_store()
    settings = _local_env(Settings())
    configured = [n.strip() for n in settings.feed_provider.split(",") if n.strip() in BROKERS]
    name = (broker or (configured[0] if configured else "")).strip().lower()
    if name not in BROKERS:
        err.print(
            f"[bold red]error:[/] --broker must be one of {', '.join(BROKERS)}"
            + ("" if broker else " (MANTRA_FEED_PROVIDER names no broker)")
        )
        raise typer.Exit(2)
    wanted = symbol.strip().upper()
    inst = DynamoInstrumentRepository().get(wanted)
    if inst is None:
        err.print(f"[bold red]error:[/] no instrument {wanted!r} in the instrument master")
        raise typer.Exit(2)
    try:
        clock = SystemClock() if as_of is None else ManualClock(parse_instant(as_of))
    except ValueError as exc:
        err.print(f"[bold red]error:[/] --as-of: {exc}")
        raise typer.Exit(2) from None
    api_url = settings.kite_api_url if name == "kite" else settings.angel_api_url
    history = broker_history(name, partial(read_secret, settings, "broker"), clock, api_url)
    repair = HistoryRepair(history, candles, clock)
    sessions = repair.sessions(days)
    report = repair.backfill(inst, days)
    table = Table(title=f"{wanted} · 1m · {name} history", show_header=False)
    table.add_row("sessions", f"{sessions[0].isoformat()} to {sessions[-1].isoformat()} ({len(sessions)})")
    table.add_row("minutes missing before", f"{report.missing:,}")
    table.add_row("requests", f"{report.requests:,}")
    table.add_row("bars written", f"{report.written:,}")
    table.add_row("still missing (no bar at the broker)", f"{report.still_missing:,}")
    if report.spans:
        last = ist_from_ms(report.spans[-1][1]).strftime("%Y-%m-%d %H:%M")
        table.add_row("asked for", f"{len(report.spans)} stretches, the last ending {last} IST")
    Console().print(table)
    for p in report.problems[:20]:
        err.print(f"[yellow]skipped row:[/] {p}")
    for e in report.errors:
        err.print(f"[bold red]not fetched:[/] {e}")
    if report.errors:
        raise typer.Exit(1)
