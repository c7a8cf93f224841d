from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from mantra.cli.backtest import backtest
from quant_helpers import NIFTY_CSV, STOCK_CSV
from typer.testing import CliRunner

app = typer.Typer()
app.command("backtest")(backtest)


@app.command("noop")
def _noop() -> None:  # a second command so typer keeps sub-command names
    pass


runner = CliRunner()
BASE = [
    "backtest",
    "--strategy",
    "sma_cross",
    "--param",
    "fast=10",
    "--param",
    "slow=20",
    "--data",
    str(STOCK_CSV),
    "--cash",
    "10000",
    "--commission",
    "0.002",
]


def test_summary_table_prints_metrics() -> None:
    res = runner.invoke(app, BASE)
    assert res.exit_code == 0, res.output
    assert "Sharpe" in res.output and "Max drawdown" in res.output


def test_json_has_metrics_and_trades(tmp_path: Path) -> None:
    res = runner.invoke(app, [*BASE, "--json", "--benchmark", str(NIFTY_CSV)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["metrics"]["trades"] >= 5 and d["metrics"]["beta"] is not None
    assert d["trades"][0]["exit_reason"] in ("signal", "open")
    assert "Sharpe =" in d["metrics"]["sharpe_definition"]


def test_html_report_is_written(tmp_path: Path) -> None:
    pytest.importorskip("mantra.quant.backtest.report")
    out = tmp_path / "r.html"
    res = runner.invoke(app, [*BASE, "--report", str(out), "--monte-carlo", "200"])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "http" not in html.split("<body")[1]
    assert "Monthly returns" in html and "Monte Carlo" in html and "Trades" in html


def test_unknown_parameter_suggests_the_right_name() -> None:
    res = runner.invoke(
        app, ["backtest", "--strategy", "sma_cross", "--param", "fsat=10", "--data", str(STOCK_CSV)]
    )
    assert res.exit_code == 2
    assert "did you mean fast?" in res.output
    assert "Traceback" not in res.output


def test_unknown_strategy_and_bad_csv_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    res = runner.invoke(app, ["backtest", "--strategy", "sma_crsos", "--data", str(STOCK_CSV)])
    assert res.exit_code == 2 and "did you mean sma_cross?" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("Time,Price\n2024-01-01,10\n")
    res = runner.invoke(app, ["backtest", "--data", str(bad)])
    assert res.exit_code == 2 and "missing column" in res.output
    res = runner.invoke(app, ["backtest", "--data", str(tmp_path / "none.csv")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_fast_not_below_slow_is_rejected() -> None:
    res = runner.invoke(app, ["backtest", "--param", "fast=30", "--data", str(STOCK_CSV)])
    assert res.exit_code == 2 and "must be shorter" in res.output


def test_grid_and_walk_forward_from_the_cli() -> None:
    res = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            str(STOCK_CSV),
            "--grid",
            "fast=5,10",
            "--grid",
            "slow=20:40:20",
            "--walk-forward",
            "250:60",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert len(d["walk_forward"]["windows"]) == 4 and d["grid"]["top"][0]["params"] == d["params"]
    res = runner.invoke(app, ["backtest", "--data", str(STOCK_CSV), "--walk-forward", "250:60"])
    assert res.exit_code == 2 and "needs --grid" in res.output


def test_an_internal_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import mantra.quant.backtest.api as api

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "run_backtest", boom)
    res = runner.invoke(app, BASE)
    assert res.exit_code == 1 and "internal error" in res.output and "Traceback" not in res.output
