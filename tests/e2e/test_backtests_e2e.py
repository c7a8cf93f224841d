"""A backtest job over real HTTP: queued by the API, run by backtest_runner in the local runtime."""

from __future__ import annotations

import time

from conftest import Platform


def test_backtest_job_runs_and_serves_result_and_report(platform: Platform):
    api = platform.client(platform.token("pro@demo.trademantra.in"))
    # Given a request for an SMA cross on INFY with a report
    resp = api.post(
        "/api/backtests",
        json={
            "strategy": "sma_cross",
            "params": {"fast": 10, "slow": 30},
            "symbols": ["INFY"],
            "start": "2025-01-01",
            "end": "2025-12-31",
            "report": True,
        },
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()
    # When the platform runs it
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.25)
        job = api.get(f"/api/backtests/{job['job_id']}").json()
    # Then it succeeded with metrics, a result and an HTML report
    assert job["status"] == "succeeded", job
    assert job["summary"]["symbols"] == ["INFY"]
    result = api.get(job["result_url"]).json()
    assert result["trades"] is not None and "sharpe" in result["metrics"]
    report = api.get(job["report_url"])
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    # And a bad request says what is wrong and where
    bad = api.post(
        "/api/backtests",
        json={"strategy": "sma_cros", "symbols": ["INFY"], "start": "2025-01-01", "end": "2025-06-01"},
    )
    assert bad.status_code == 422 and "did you mean sma_cross" in bad.json()["detail"]
    other = platform.client(platform.token("starter@demo.trademantra.in"))
    assert other.get(f"/api/backtests/{job['job_id']}").status_code == 404
