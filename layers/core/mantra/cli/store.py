"""The running platform's stores for CLI commands, found through the same ``MANTRA_*`` settings as every command."""

from __future__ import annotations

import typer

from mantra.ports import CandleRepository


def candle_store() -> CandleRepository:
    """The candle repository of the running platform; a clear error (no traceback) when it is not up."""
    from rich.console import Console

    from mantra.cli.main import _local_env
    from mantra.health import tcp_check
    from mantra.settings import Settings
    from mantra.store import tables
    from mantra.store.repositories import DynamoCandleRepository

    settings = Settings()
    try:
        tcp_check("127.0.0.1", settings.dynamodb_port)()
    except Exception:
        Console(stderr=True).print(
            f"[bold red]error:[/] no candle store on port {settings.dynamodb_port}: start the platform"
            " (make run) and load history (mantra history load); nothing is generated in its place"
        )
        raise typer.Exit(2) from None
    tables.configure(_local_env(settings))
    return DynamoCandleRepository()
