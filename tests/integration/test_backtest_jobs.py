"""Backtest jobs through the real stand-ins: submit -> outbox -> bus -> queue -> backtest_runner -> result."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import timebase
from helpers import until
from mantra.backtests.models import BacktestRequest, JobStatus
from mantra.catalog import DynamoStreamTrigger, EventTrigger, function
from mantra.container import get_container
from mantra.errors import LimitExceeded, NotFound
from mantra.runtime.pollers import DynamoStreamPoller, SqsPoller
from mantra.settings import Settings
from mantra.store.repositories import DynamoUserRepository


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
    assert result is not None and result["bars"] > 200 and result["equity"]
    assert result["report_html"].lstrip().lower().startswith("<!doctype html")
    assert any("simulated daily bars" in w for w in result["warnings"])
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
    recent = BacktestRequest(
        strategy="sma_cross",
        symbols=["TCS"],
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
