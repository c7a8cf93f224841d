"""Backtest jobs through the real stand-ins: submit -> outbox -> bus -> queue -> backtest_runner -> result."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import timebase
from fastapi.testclient import TestClient
from helpers import until
from mantra.backtests.models import BacktestRequest, JobStatus
from mantra.catalog import DynamoStreamTrigger, EventTrigger, function
from mantra.container import get_container
from mantra.errors import LimitExceeded, NotFound
from mantra.runtime.pollers import DynamoStreamPoller, SqsPoller
from mantra.settings import Settings
from mantra.store.repositories import DynamoUserRepository
from nse_files import daily_candles

from frontend_api.app import create_app


def _runner_pollers(settings: Settings, tmp_path: Path) -> tuple[DynamoStreamPoller, SqsPoller]:
    relay, runner = function("outbox_relay"), function("backtest_runner")
    return (
        DynamoStreamPoller(
            settings, relay, next(t for t in relay.triggers if isinstance(t, DynamoStreamTrigger)), tmp_path
        ),
        SqsPoller(settings, runner, next(t for t in runner.triggers if isinstance(t, EventTrigger))),
    )


def test_submitted_backtest_runs_once_and_its_result_is_kept_for_its_tenant(
    platform: Settings, tmp_path: Path
):
    # Given the Pro user asks for an SMA cross on RELIANCE with Indian costs and a report
    services = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    request = BacktestRequest(
        strategy="sma_cross",
        params={"fast": 10, "slow": 20},
        symbols=["RELIANCE"],
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        report=True,
    )
    job = services.backtests.submit(pro, request)
    assert job.status is JobStatus.QUEUED
    # When the outbox relay and the runner drain their sources
    relay, runner = _runner_pollers(platform, tmp_path)
    until(
        lambda: (
            (relay.poll_once() or True)
            and (runner.poll_once() or True)
            and services.backtests.get(pro, job.job_id).status is JobStatus.SUCCEEDED
        ),
        timeout_s=60,
    )
    # Then the job succeeded, with metrics, trades, an equity series and a report
    done = services.backtests.get(pro, job.job_id)
    assert done.summary is not None and done.summary["symbols"] == ["RELIANCE"]
    result = services.backtests.result(pro, job.job_id)
    # on the stored real sessions (the demo seed: 2025-01-01 .. 2025-04-30), the rest of 2025 named as missing
    assert result is not None and result["bars"] == 80 and result["equity"]
    assert result["report_html"].lstrip().lower().startswith("<!doctype html")
    data = result["data"]["RELIANCE"]
    assert (data["source"], data["bars"], data["first"], data["last"]) == (
        "stored",
        80,
        "2025-01-01",
        "2025-04-30",
    )
    assert "2025-05-02" in data["missing_sessions"] and "2025-04-30" not in data["missing_sessions"]
    assert any(w.startswith("RELIANCE: no stored bar for") for w in result["warnings"])
    assert not any("simulated" in w for w in result["warnings"])
    # And it ran exactly once even if the message comes again
    assert services.backtests.run(pro.tenant_id, job.job_id) is JobStatus.SUCCEEDED
    assert services.backtests.get(pro, job.job_id).attempts == 1
    # And another tenant cannot see it
    starter = DynamoUserRepository().by_email("starter@demo.trademantra.in")[0]  # type: ignore[index]
    with pytest.raises(NotFound):
        services.backtests.get(starter, job.job_id)


def test_plan_limits_concurrent_jobs_and_history_length(platform: Settings):
    services = get_container(platform)
    starter = DynamoUserRepository().by_email("starter@demo.trademantra.in")[0]  # type: ignore[index]
    # real TCS sessions moved to end a month before the clock: the plan window is what is tested here
    services.candles.put_many(
        c.model_copy(update={"symbol": "TCS-RECENT"})
        for c in daily_candles(["TCS"], ending=timebase.TODAY - timedelta(days=30))
    )
    recent = BacktestRequest(
        strategy="sma_cross",
        symbols=["TCS-RECENT"],
        start=timebase.TODAY - timedelta(days=180),
        end=timebase.TODAY - timedelta(days=30),
    )
    # Given the Starter plan (1 concurrent backtest, 365 days of history)
    services.backtests.submit(starter, recent)
    # When a second job is submitted while the first is queued
    with pytest.raises(LimitExceeded, match="1 backtest"):
        services.backtests.submit(starter, recent)
    # Then it is refused; and so is a range older than the plan's history
    old = recent.model_copy(update={"start": timebase.TODAY - timedelta(days=366 * 10)})
    with pytest.raises(LimitExceeded, match="365 days"):
        services.backtests.submit(starter, old)


def test_a_job_with_a_bad_parameter_is_refused_with_a_suggestion(platform: Settings):
    services = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    bad = BacktestRequest(
        strategy="sma_cross",
        params={"fsat": 5},
        symbols=["TCS"],
        start=date(2026, 1, 1),
        end=date(2026, 6, 1),
    )
    with pytest.raises(Exception, match="did you mean fast"):
        services.backtests.submit(pro, bad)


def test_the_api_refuses_a_backtest_without_real_data_and_creates_no_job(platform: Settings):
    services = get_container(platform)
    pro = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    client = TestClient(create_app(platform, services))
    issuer = client.app.state.dev_issuer  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {issuer.issue(pro, services.clock.now_ms() // 1000)}"}
    before = len(services.backtests.recent(pro, 500))
    body = {
        "strategy": "sma_cross",
        "symbols": ["INFY", "NOSUCHSTOCK"],
        "start": "2025-01-01",
        "end": "2025-04-30",
    }
    res = client.post("/api/backtests", headers=h, json=body)
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    assert "NOSUCHSTOCK" in detail and "2025-01-01" in detail and "2025-04-30" in detail
    # a span before the stored history is refused the same way, naming the symbol with data elsewhere
    early = client.post(
        "/api/backtests",
        headers=h,
        json={**body, "symbols": ["INFY"], "start": "2024-01-01", "end": "2024-06-30"},
    )
    assert (
        early.status_code == 422
        and "INFY: 0 stored 1d bars from 2024-01-01 to 2024-06-30" in early.json()["detail"]
    )
    assert len(services.backtests.recent(pro, 500)) == before  # no job was created
    ok = client.post("/api/backtests", headers=h, json={**body, "symbols": ["INFY"]})
    assert ok.status_code == 202, ok.text
