"""``mantra scan``: a readable table, simulated history labelled, errors with a caret and a non-zero exit."""

from __future__ import annotations

import json

import typer
from mantra.cli.scan import scan
from typer.testing import CliRunner

app = typer.Typer()
app.command("scan")(scan)


@app.command("noop")
def _noop() -> None:  # a second command so typer keeps sub-command names
    pass


runner = CliRunner()


def test_scan_prints_a_table_and_labels_simulated_history():
    res = runner.invoke(app, ["scan", "close > 0", "--universe", "RELIANCE,TCS", "--tf", "1d", "--offline"])
    assert res.exit_code == 0, res.output
    assert "RELIANCE" in res.output and "1285.40" in res.output
    assert "simulated history" in res.output


def test_scan_json_output_has_exact_prices():
    res = runner.invoke(app, ["scan", "close > 0", "-u", "TCS", "--offline", "--json"])
    payload = json.loads(res.output)
    assert payload["matches"][0]["close"] == "3920.50"
    assert payload["simulated_history"] == ["TCS"]


def test_syntax_error_prints_a_caret_and_exits_non_zero_without_a_traceback():
    res = runner.invoke(app, ["scan", "(rsi(14) < 30", "--offline"])
    assert res.exit_code == 2
    assert "line 1, col 14: expected ')'" in res.output
    assert "(rsi(14) < 30\n" in res.output and "               ^" in res.output
    assert "Traceback" not in res.output


def test_unknown_universe_symbol_is_a_clear_error():
    res = runner.invoke(app, ["scan", "close > 0", "-u", "RELIANC", "--offline"])
    assert res.exit_code == 2 and "did you mean 'RELIANCE'?" in res.output


def test_presets_run_by_id_and_are_listed():
    listed = runner.invoke(app, ["scan", "--presets"])
    assert listed.exit_code == 0 and "golden_cross" in listed.output
    ran = runner.invoke(app, ["scan", "--preset", "gap_down", "-u", "demo", "--offline"])
    assert ran.exit_code == 0 and "demo" in ran.output
