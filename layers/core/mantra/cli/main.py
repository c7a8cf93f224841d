"""The `mantra` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mantra.settings import Settings


def _flags_as_flags() -> None:
    """Typer 0.29 labels every on/off option ``<bool>`` in --help, as if it took a value; a flag takes none."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_as_flags()

app = typer.Typer(
    help="Trade Mantra: run the platform locally, invoke its functions, synthesize its cloud stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console.print(f"mantra {version('trade-mantra')}")
        except PackageNotFoundError:
            console.print("mantra (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Trade Mantra: run the platform locally, invoke its functions, synthesize its cloud stack."""
    from mantra.devtools.lockfile import running_platform_env

    # the running platform's ports, from its lock file (an exported variable still wins)
    for name, value in running_platform_env(Settings().data_dir).items():
        os.environ.setdefault(name, value)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _local_env(settings: Settings) -> Settings:
    """Point this process at the local stand-ins unless endpoints are already set."""
    from mantra.devtools.standins import endpoint_env, local_settings_env

    for k, v in {**endpoint_env(settings), **local_settings_env(settings)}.items():
        os.environ.setdefault(k, v)
    return Settings()


@app.command()
def dev(
    in_memory: Annotated[
        bool, typer.Option("--in-memory", help="Keep no data on disk (tests use this).")
    ] = False,
) -> None:
    """Start the whole platform locally: stand-ins, tables, feed, function runtime and the API.

    Data persists under .data/ (MANTRA_DATA_DIR). Ports: API 8000 (MANTRA_API_PORT), DynamoDB Local 8100,
    kinesalite 8101, moto 8102, SMTP sink 8025. Ctrl-C stops everything it started.
    """
    from mantra.devtools.standins import StandinError
    from mantra.devtools.supervisor import AlreadyRunning, run

    try:
        code = run(Settings(), in_memory=in_memory, say=console.print)
    except (AlreadyRunning, StandinError, RuntimeError) as exc:
        fail(str(exc))
    raise typer.Exit(code)


@app.command()
def functions() -> None:
    """List the function catalog: every function, its triggers and its memory/timeout."""
    from mantra.catalog import FUNCTIONS, TASKS

    table = Table(title="Function catalog")
    for col in ("function", "triggers", "memory", "timeout", "description"):
        table.add_column(col, overflow="fold")
    for f in FUNCTIONS:
        triggers = "\n".join(_describe(t) for t in f.triggers)
        table.add_row(f.name, triggers, f"{f.memory_mb} MB", f"{f.timeout_s} s", f.description)
    for t in TASKS:
        table.add_row(t.name, "Fargate task", f"{t.memory_mb} MB", "-", t.description)
    console.print(table)


def _describe(trigger: Any) -> str:
    kind = trigger.kind
    if kind == "kinesis":
        return f"Kinesis {trigger.stream} (batch {trigger.batch_size}, {trigger.retry_attempts} retries)"
    if kind == "dynamodb_stream":
        return f"DynamoDB stream of {trigger.table}"
    if kind == "schedule":
        return f"cron({trigger.cron}) {trigger.timezone}"
    if kind == "event":
        return f"events {', '.join(trigger.detail_types)} via SQS {trigger.queue}"
    if kind == "websocket":
        return "WebSocket " + ", ".join(trigger.routes) + " [token on $connect]"
    return ", ".join(trigger.routes) + (" [JWT]" if trigger.authorized else " [public]")


@app.command()
def invoke(
    function: Annotated[
        str, typer.Argument(help="Function name from `mantra functions`, e.g. tick_processor")
    ],
    event: Annotated[
        Path,
        typer.Argument(
            help="Event JSON, e.g. events/samples/tick_processor.json",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Run one function locally on a sample event, against the running local stand-ins (`mantra dev`)."""
    from mantra.catalog import function as lookup
    from mantra.runtime.invoke import invoke as call

    try:
        spec = lookup(function)
    except KeyError as exc:
        fail(str(exc.args[0]))
    try:
        payload = json.loads(event.read_text())
    except json.JSONDecodeError as exc:
        fail(f"{event}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    _local_env(Settings())
    try:
        result = call(spec, payload)
    except Exception as exc:
        fail(f"{function} raised {type(exc).__name__}: {exc}")
    console.print_json(json.dumps(result, default=str))


@app.command()
def token(
    email: Annotated[str, typer.Argument(help="A seeded user, e.g. pro@demo.trademantra.in")],
) -> None:
    """Print a bearer token for a seeded user (the local platform must be running)."""
    typer.echo(local_token(email))


def local_token(email: str) -> str:
    """A bearer token for a seeded user from the running platform's development issuer (or a CLI error)."""
    from mantra.auth.tokens import DevIssuer
    from mantra.clock import SystemClock
    from mantra.store import tables
    from mantra.store.repositories import DynamoUserRepository

    settings = _local_env(Settings())
    if settings.dev_issuer_key_file is None or not settings.dev_issuer_key_file.exists():
        fail("no development issuer key yet: start the platform with `make run` first")
    assert settings.dev_issuer_key_file is not None
    tables.configure(settings)
    try:
        found = DynamoUserRepository().by_email(email)
    except Exception as exc:
        fail(f"cannot reach the local DynamoDB ({type(exc).__name__}); is `make run` up?")
    if found is None:
        fail(f"no user {email!r}; seeded users are listed in the README")
    assert found is not None
    issuer = DevIssuer.from_file(
        settings.dev_issuer_key_file, settings.auth_issuer, settings.auth_client_id, settings.token_ttl_s
    )
    return issuer.issue(found[0], SystemClock().now_ms() // 1000)


@app.command()
def synth(outdir: Annotated[str, typer.Option(help="Cloud assembly folder")] = "cdk.out") -> None:
    """Synthesize the CDK app (offline) into cdk.out."""
    try:
        from mantra.cli.synth import synth as run_synth
    except ImportError as exc:
        fail(f"the CDK app is not available: {exc}")
    run_synth(outdir)
    console.print(f"synthesized into {outdir}/")


def _register_groups() -> None:
    from mantra.cli.demo import app as demo_app
    from mantra.cli.dlq import app as dlq_app
    from mantra.cli.history import app as history_app
    from mantra.cli.stripe import app as stripe_app

    app.add_typer(dlq_app, name="dlq")
    app.add_typer(history_app, name="history")
    app.add_typer(stripe_app, name="stripe")
    app.add_typer(demo_app, name="demo")


_register_groups()


def _register_optional() -> None:
    from mantra.cli.scan import scan

    app.command("scan")(scan)
    try:
        from mantra.cli.backtest import backtest
    except ImportError:
        return
    app.command("backtest")(backtest)


_register_optional()


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":
    main()
