"""`mantra dlq`: see and redrive dead-letter queues."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mantra.settings import Settings

app = typer.Typer(
    help="Dead-letter queues: list them, and put failed messages back on their source queue.",
    no_args_is_help=True,
)
console = Console()


def _settings() -> Settings:
    from mantra.cli.main import _local_env

    return _local_env(Settings())


@app.command("list")
def list_queues() -> None:
    """Every dead-letter queue with its message count (against the running platform or AWS)."""
    from mantra.store.queues import dead_letter_queues

    table = Table(title="Dead-letter queues")
    for col in ("queue", "messages", "redrives to"):
        table.add_column(col, overflow="fold")
    try:
        rows = dead_letter_queues(_settings())
    except Exception as exc:
        console.print(f"[bold red]error:[/] cannot reach SQS ({type(exc).__name__}); is `make run` up?")
        raise typer.Exit(1) from None
    for d in rows:
        table.add_row(d.name, str(d.messages), d.source or "(stream records: inspect only)")
    console.print(table)


@app.command("redrive")
def redrive_queue(
    queue: Annotated[str, typer.Argument(help="e.g. alert-dispatch-dlq (see `mantra dlq list`)")],
    limit: Annotated[int, typer.Option(help="move at most this many messages")] = 1000,
) -> None:
    """Move messages from a dead-letter queue back to the queue they came from, to be processed again."""
    from mantra.store.queues import redrive

    try:
        moved = redrive(_settings(), queue, limit)
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"moved {moved} message(s) from {queue} back to its source queue")
