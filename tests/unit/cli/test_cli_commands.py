"""Every `mantra` command and sub-command answers --help (flags shown as flags, nothing cut off); the ones that
need no running platform really run: `functions` lists the whole catalog, `--version` prints the version."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
import typer
from mantra.catalog import FUNCTIONS, TASKS
from mantra.cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def _commands() -> list[list[str]]:
    """Every command path of the CLI, nested groups included."""
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        out.append(path)
        if hasattr(cmd, "commands"):  # a group (Typer carries its own copy of click)
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, [*path, name])

    walk(root, [])
    return out


COMMANDS = _commands()


def test_the_walk_finds_every_command() -> None:
    top = {p[0] for p in COMMANDS if p}
    assert {"dev", "functions", "invoke", "token", "synth", "scan", "history", "dlq", "stripe"} <= top
    assert any(len(p) == 2 for p in COMMANDS)  # sub-commands (history load, stripe trigger, ...) too


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "mantra")
def test_every_command_teaches_its_use(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], prog_name="mantra")
    assert result.exit_code == 0, result.output
    assert "Usage: mantra" in result.output
    assert "<bool>" not in result.output  # a flag takes no value
    assert "…" not in result.output


def test_functions_lists_every_function_and_task_in_full() -> None:
    result = runner.invoke(app, ["functions"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output  # long cells fold onto the next line instead of being cut
    cells = "".join(line.split("│")[1].strip() for line in result.output.splitlines() if line.count("│") > 2)
    for spec in (*FUNCTIONS, *TASKS):
        assert spec.name in cells, spec.name
    assert "WebSocket $connect" in result.output.replace("\n", " ") or "$connect" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"mantra {version('trade-mantra')}"


def test_commands_find_the_running_platform_from_its_lock_file(tmp_path, monkeypatch) -> None:
    import json
    import os
    import subprocess
    import sys

    from mantra.devtools.lockfile import running_platform_env
    from mantra.settings import Settings

    ports = {"api_port": 9100, "dynamodb_port": 9101, "kinesis_port": 9102, "moto_port": 9103}
    lock = tmp_path / "dev.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "api": "http://127.0.0.1:9100", "ports": ports}))
    assert running_platform_env(tmp_path)["MANTRA_API_PORT"] == "9100"

    # a command started with only the data folder known reads the ports from the lock
    for name in ports:
        monkeypatch.delenv(f"MANTRA_{name.upper()}", raising=False)  # restored after the test
    monkeypatch.setenv("MANTRA_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["functions"])
    assert result.exit_code == 0
    assert Settings().api_port == 9100 and Settings().dynamodb_port == 9101
    monkeypatch.setenv("MANTRA_API_PORT", "8000")  # an exported variable still wins over the lock
    assert runner.invoke(app, ["functions"]).exit_code == 0
    assert Settings().api_port == 8000

    # a lock left by a process that has ended is ignored
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock.write_text(json.dumps({"pid": int(dead.stdout), "ports": ports}))
    assert running_platform_env(tmp_path) == {}
