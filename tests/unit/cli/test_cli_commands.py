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
