"""Real history over the real stand-ins: the exchange's reports loaded by `mantra history load` into DynamoDB
Local, read back by the candles API, scans and backtests; idempotent; a broken file reported, not fatal."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from mantra.cli.main import app
from mantra.container import get_container
from mantra.market.eod import EOD_SOURCE, session_start_ms
from mantra.settings import Settings
from mantra.store.repositories import DynamoCandleRepository, DynamoUserRepository
from nse_files import daily_panel, nse_data_dir
from typer.testing import CliRunner

from frontend_api.app import create_app

runner = CliRunner()


def _sample(tmp_path: Path, n: int) -> list[Path]:
    """The first ``n`` real equity files, and one real F&O report, copied as published."""
    equity = sorted(
        (nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"),
        key=lambda p: p.stem[-4:] + p.stem[-6:-4] + p.stem[-8:-6],
    )
    out = []
    for p in [*equity[:n], sorted((nse_data_dir() / "fo").glob("*.zip"))[0]]:
        out.append(Path(shutil.copy(p, tmp_path / p.name)))
    return out


def test_history_load_stores_every_symbol_and_series_idempotently_and_reports_a_broken_file(
    platform: Settings, tmp_path: Path
) -> None:
    files = _sample(tmp_path, 3)
    broken = tmp_path / "broken.csv"
    text = files[0].read_text().splitlines()
    broken.write_text("\n".join([text[0].replace("CLOSE_PRICE", "CLOSE"), *text[1:50]]) + "\n")

    from mantra.store.history_repository import DynamoHistoryLoads

    version = DynamoHistoryLoads().current()
    first = runner.invoke(app, ["history", "load", str(tmp_path)])
    loaded_version = DynamoHistoryLoads().current()
    assert loaded_version > version  # cached daily bars (market.bar_cache) are read again
    flat = " ".join(first.output.split())
    assert first.exit_code == 1, first.output  # one file could not be read: said, and the rest loaded
    assert "broken.csv" in flat and "CLOSE_PRICE" in flat
    assert "F&O contracts" in flat and "not stored yet" not in flat  # the F&O report is stored too

    candles = DynamoCandleRepository()
    day0 = files[0]
    rows = [r.split(", ") for r in day0.read_text().splitlines()[1:]]
    eq = {r[0]: r for r in rows if r[1] == "EQ"}
    be = [r for r in rows if r[1] == "BE"]
    # every EQ symbol of the day is stored under its bare name, with the real close in paise
    for symbol in ("RELIANCE", sorted(eq)[0], sorted(eq)[-1]):
        r = eq[symbol]
        got = candles.latest(symbol, "1d", session_start_ms(_day(r[2])), 1)
        assert got and got[0].close_paise == round(float(r[8]) * 100) and got[0].source == EOD_SOURCE
    # another series is stored as the brokers name it
    assert be, "a day of the real reports has BE rows"
    got = candles.latest(f"{be[0][0]}-BE", "1d", session_start_ms(_day(be[0][2])), 1)
    assert got and got[0].close_paise == round(float(be[0][8]) * 100)
    # ... and the candles API addresses it as ?series=BE (the bare symbol is its EQ series)
    container = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    client = TestClient(create_app(platform, container))
    token = client.app.state.dev_issuer.issue(pro, container.clock.now_ms() // 1000)  # type: ignore[attr-defined]
    day = _day(be[0][2]).isoformat()
    window = {"tf": "1d", "from": f"{day}T00:00:00+05:30", "to": f"{day}T23:59:59+05:30"}
    be_bar = client.get(
        f"/api/candles/{be[0][0].lower()}",
        headers={"Authorization": f"Bearer {token}"},
        params={**window, "series": "be", "adjusted": "false"},
    )
    assert be_bar.status_code == 200, be_bar.text
    assert be_bar.json()["symbol"] == f"{be[0][0]}-BE"
    assert [c["close"] for c in be_bar.json()["candles"]] == [f"{float(be[0][8]):.2f}"]
    bad = client.get(
        "/api/candles/RELIANCE", headers={"Authorization": f"Bearer {token}"}, params={"series": "B E"}
    )
    assert bad.status_code == 422 and "series" in bad.text

    before = candles.range("RELIANCE", "1d", 0, 2**62, 1000)
    again = runner.invoke(app, ["history", "load", *map(str, files)])
    assert again.exit_code == 0, again.output
    assert f"{len(files)} files were loaded before" in " ".join(again.output.split())  # the F&O one too
    assert DynamoHistoryLoads().current() == loaded_version  # nothing loaded: the version stays
    forced = runner.invoke(app, ["history", "load", "--force", str(files[0])])
    assert forced.exit_code == 0 and "loaded before" not in forced.output
    assert candles.range("RELIANCE", "1d", 0, 2**62, 1000) == before  # a re-run changes nothing

    status = runner.invoke(app, ["history", "status", "reliance"])
    assert status.exit_code == 0 and "RELIANCE" in status.output and "nse_eod" in status.output
    missing = runner.invoke(app, ["history", "status", "NOSUCHSTOCK"])
    assert missing.exit_code == 1 and "no stored 1d bars" in missing.output


def test_the_demo_seed_is_real_history_and_scans_and_charts_read_it(platform: Settings) -> None:
    # bootstrap.seed (what `make run` does) loaded the demo and NIFTY 50 names from the real reports
    container = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    client = TestClient(create_app(platform, container))
    issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {issuer.issue(pro, container.clock.now_ms() // 1000)}"}
    panel = daily_panel(["INFY", "TCS"])

    run = client.post("/api/scans/run", headers=h, json={"expression": "close > 0", "universe": "nifty50"})
    assert run.status_code == 200, run.text
    body = run.json()
    assert body["as_of"] == panel.days[-1].isoformat()
    infy = next(m for m in body["matches"] if m["symbol"] == "INFY")
    assert infy["close"] == f"{panel.close[-1, 0]:.2f}"  # the real close of the last session
    assert len(body["matches"]) == 50 and body["data"]["no_data"] == []

    chart = client.get(
        "/api/candles/TCS",
        headers=h,
        params={
            "tf": "1d",
            "from": "2025-01-01T00:00:00+05:30",
            "to": "2025-04-30T23:59:59+05:30",
            "limit": 5,
        },
    )
    assert chart.status_code == 200, chart.text
    closes = [c["close"] for c in chart.json()["candles"]]
    assert closes == [f"{x:.2f}" for x in panel.close[-5:, 1]]  # the newest five, oldest first
    assert not np.isnan(panel.close).any()


def _day(text: str):  # "01-Jan-2025"
    from datetime import datetime

    return datetime.strptime(text, "%d-%b-%Y").date()
