"""``mantra scan "EXPR" --universe nifty50 --tf 1d``: run a scan and print the matches as a table.

Stored candles come from the running platform's DynamoDB (``make run``, found through the same ``MANTRA_*``
settings as every command); nothing is generated, and the output names the symbols and sessions the store lacked.
Registered by the main app as ``app.command("scan")(scan)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from mantra.cli.store import candle_store
from mantra.market.universes import Universe
from mantra.ports import CandleRepository

if TYPE_CHECKING:
    from mantra.store.fo_repository import DynamoFoStore


def _exit(message: str, excerpt: str | None = None, code: int = 2) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)
    err.print(f"[bold red]error:[/] {escape(message)}")
    if excerpt:
        for line in excerpt.splitlines():
            err.print(f"  {escape(line)}", highlight=False)
    return typer.Exit(code)


def _candles() -> CandleRepository:
    return candle_store()


def _universe(spec: str) -> Universe:
    """A bundled universe, or (``fno``, ``nse_eq``, symbols known from stored history) the running store's."""
    from mantra.errors import Invalid
    from mantra.market.universes import UniverseCatalog, universe

    try:
        return universe(spec)
    except Invalid as bundled_only:
        from mantra.store.fo_repository import DynamoEqHistory, DynamoFoStore

        try:
            return UniverseCatalog(DynamoFoStore(), DynamoEqHistory()).universe(spec)
        except Invalid:
            raise
        except Exception:  # the store could not answer: the bundled answer stands
            raise bundled_only from None


def _open_interest(functions: Iterable[str]) -> DynamoFoStore | None:
    """The stored F&O reports, when the expression reads open interest."""
    from mantra.market.history import uses_oi
    from mantra.store.fo_repository import DynamoFoStore

    return DynamoFoStore() if uses_oi(functions) else None


def scan(
    expression: Annotated[
        str | None,
        typer.Argument(help='Scan expression, e.g. "rsi(14) < 30 and close > sma(close, 200)"'),
    ] = None,
    universe: Annotated[
        str,
        typer.Option(
            "--universe", "-u", help="nifty50, niftybank, fno, nse_eq, demo, or symbols separated by commas"
        ),
    ] = "nifty50",
    tf: Annotated[str, typer.Option("--tf", "-t", help="timeframe of the bars: 1m, 5m, 15m, 1h, 1d")] = "1d",
    preset: Annotated[
        str | None, typer.Option("--preset", "-p", help="run a built-in preset by id (see --presets)")
    ] = None,
    presets: Annotated[bool, typer.Option("--presets", help="list the built-in presets and exit")] = False,
    limit: Annotated[int, typer.Option(help="show at most this many matches")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="scan the bars up to this session (IST date)"),
    ] = None,
) -> None:
    """Scan a universe with an expression (or a preset) on the latest bar."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from mantra.clock import IST, SystemClock, ist_from_ms, utc_from_ms
    from mantra.errors import MantraError
    from mantra.market.history import HistoryLoader
    from mantra.money import to_rupees
    from mantra.quant.scanner import ScannerError, compile_scan
    from mantra.quant.scanner.presets import BY_ID, PRESETS
    from mantra.scans.service import ScanService

    console = Console()
    if presets:
        table = Table(title=f"{len(PRESETS)} built-in presets")
        for col in ("id", "tf", "name", "expression"):
            table.add_column(col, overflow="fold")
        for p in PRESETS:
            table.add_row(p.preset_id, p.timeframe, p.name, escape(p.expression))
        console.print(table)
        return
    if preset:
        if expression:
            raise _exit("give an expression or --preset, not both")
        chosen = BY_ID.get(preset)
        if chosen is None:
            from mantra.quant.scanner.checker import did_you_mean

            hint = did_you_mean(preset, tuple(BY_ID))
            raise _exit(
                f"unknown preset {preset!r}" + (f"; {hint}" if hint else "; see mantra scan --presets")
            )
        expression, tf = chosen.expression, chosen.timeframe
    if not expression:
        raise _exit('give an expression, e.g. mantra scan "rsi(14) < 30", or --preset ID')
    try:
        compiled = compile_scan(expression, tf)
        candles = _candles()  # first: the stored universes are read from the same running store
        uni = _universe(universe)
        service = ScanService(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            HistoryLoader(candles, open_interest=_open_interest(compiled.functions)),
            SystemClock(),
        )
        end_ms = SystemClock().now_ms()
        if as_of is not None:
            end_ms = int((as_of.replace(tzinfo=IST) + timedelta(days=1)).timestamp() * 1000) - 1
        run = service.execute(compiled, uni, end_ms, limit)
    except typer.Exit:
        raise
    except ScannerError as exc:
        raise _exit(str(exc), exc.excerpt()) from None
    except MantraError as exc:
        raise _exit(exc.message) from None
    except Exception as exc:  # no traceback reaches the user
        raise _exit(f"{type(exc).__name__}: {exc}", code=1) from None

    def session(ms: int) -> str:
        return ist_from_ms(ms).date().isoformat()

    if as_json:
        payload = {
            "expression": run.expression,
            "timeframe": run.timeframe,
            "universe": run.universe,
            "bar_time": utc_from_ms(run.bar_ms).isoformat() if run.bar_ms else None,
            "scanned": run.scanned,
            "cost": run.cost,
            "as_of": session(run.bar_ms) if run.bar_ms else None,
            "elapsed_ms": run.elapsed_ms,
            "data": {
                "source": "stored",
                "no_data": list(run.no_data),
                "short_history": run.short_history,
                "stale": {s: session(ms) for s, ms in run.stale.items()},
            },
            "matches": [
                {
                    "symbol": h.symbol,
                    "close": str(to_rupees(h.close_paise)),
                    "change_pct": None if h.change_pct is None else str(h.change_pct),
                    "volume": h.volume,
                }
                for h in run.hits
            ],
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    bar = "-"
    if run.bar_ms:
        local = ist_from_ms(run.bar_ms)
        bar = local.strftime("%Y-%m-%d") if run.timeframe == "1d" else local.strftime("%Y-%m-%d %H:%M IST")
    table = Table(
        title=f"{escape(run.expression)}",
        caption=f"{run.universe} · {run.timeframe} · {len(run.hits)} of {run.scanned} matched · last bar {bar}"
        f" · cost {run.cost} · {run.elapsed_ms:.0f} ms",
    )
    for col, justify in (("#", "right"), ("symbol", "left"), ("close ₹", "right"), ("change %", "right")):
        table.add_column(col, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("volume", justify="right", overflow="fold")
    for i, h in enumerate(run.hits, 1):
        change = "-" if h.change_pct is None else f"{h.change_pct:+.2f}"  # rounded for display only
        style = "green" if (h.change_pct or 0) > 0 else ("red" if (h.change_pct or 0) < 0 else None)
        table.add_row(
            str(i),
            h.symbol,
            str(to_rupees(h.close_paise)),
            f"[{style}]{change}[/]" if style else change,
            f"{h.volume:,}",
        )
    console.print(table)
    gaps = [
        (len(run.no_data), "had no stored bars", ", ".join(run.no_data[:8])),
        (
            len(run.short_history),
            "had fewer bars than the expression needs",
            ", ".join(list(run.short_history)[:8]),
        ),
        (
            len(run.stale),
            f"had no bar on {bar}",
            ", ".join(f"{s} (last {session(ms)})" for s, ms in list(run.stale.items())[:8]),
        ),
    ]
    for count, what, names in gaps:
        if count:
            console.print(
                f"[yellow]{count} of {run.scanned} symbols {what}:[/] {escape(names)}{' ...' if count > 8 else ''}"
            )
