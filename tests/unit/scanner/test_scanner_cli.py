"""``mantra scan``: a readable table on stored real bars, gaps named, errors with a caret and a non-zero exit."""

from __future__ import annotations

import json
import socket

import pytest
import typer
from mantra.cli import scan as scan_cli
from mantra.cli.scan import scan
from nse_files import MemoryCandles, daily_candles, daily_panel
from typer.testing import CliRunner

app = typer.Typer()
app.command("scan")(scan)


@app.command("noop")
def _noop() -> None:  # a second command so typer keeps sub-command names
    pass


runner = CliRunner()


@pytest.fixture(autouse=True)
def stored(monkeypatch):
    """The CLI's store: the demo symbols' real NSE sessions (the running platform's DynamoDB in real use)."""
    candles = MemoryCandles(daily_candles(["RELIANCE", "TCS", "INFY"]))
    monkeypatch.setattr(scan_cli, "_candles", lambda: candles)
    return candles


def test_scan_prints_a_table_of_real_closes_and_names_the_session_and_the_gaps():
    res = runner.invoke(app, ["scan", "close > 0", "--universe", "RELIANCE,TCS,WIPRO", "--tf", "1d"])
    assert res.exit_code == 0, res.output
    panel = daily_panel(["RELIANCE"])
    assert "RELIANCE" in res.output and f"{panel.close[-1, 0]:.2f}" in res.output
    flat = " ".join(res.output.split())  # the table's caption wraps at the terminal's width
    assert f"last bar {panel.days[-1].isoformat()}" in flat
    assert "1 of 3 symbols had no stored bars: WIPRO" in flat


def test_scan_json_output_has_exact_prices_and_the_as_of_session():
    panel = daily_panel(["TCS"])
    day = panel.days[30]
    res = runner.invoke(app, ["scan", "close > 0", "-u", "TCS", "--json", "--as-of", day.isoformat()])
    payload = json.loads(res.output)
    assert payload["matches"][0]["close"] == f"{panel.close[30, 0]:.2f}"
    assert payload["as_of"] == day.isoformat() and payload["data"]["no_data"] == []


def test_without_a_running_platform_the_scan_says_so_and_generates_nothing(monkeypatch):
    monkeypatch.undo()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nobody listens once closed
    monkeypatch.setenv("MANTRA_DYNAMODB_PORT", str(port))
    res = runner.invoke(app, ["scan", "close > 0", "-u", "TCS"])
    assert res.exit_code == 2 and "start the platform" in res.output and "Traceback" not in res.output


def test_syntax_error_prints_a_caret_and_exits_non_zero_without_a_traceback():
    res = runner.invoke(
        app,
        [
            "scan",
            "(rsi(14) < 30",
        ],
    )
    assert res.exit_code == 2
    assert "line 1, col 14: expected ')'" in res.output
    assert "(rsi(14) < 30\n" in res.output and "               ^" in res.output
    assert "Traceback" not in res.output


def test_unknown_universe_symbol_is_a_clear_error():
    res = runner.invoke(
        app,
        [
            "scan",
            "close > 0",
            "-u",
            "RELIANC",
        ],
    )
    assert res.exit_code == 2 and "did you mean 'RELIANCE'?" in res.output


def test_presets_run_by_id_and_are_listed():
    listed = runner.invoke(app, ["scan", "--presets"])
    assert listed.exit_code == 0 and "golden_cross" in listed.output
    ran = runner.invoke(
        app,
        [
            "scan",
            "--preset",
            "gap_down",
            "-u",
            "demo",
        ],
    )
    assert ran.exit_code == 0 and "demo" in ran.output
