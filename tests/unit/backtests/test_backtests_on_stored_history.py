"""Backtest jobs run on stored real bars only: too little data is refused at submit, gaps are named."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
from fo_fakes import MemoryFoStore, fo_files, raw_rows
from mantra.backtests.bars import MIN_STORED_BARS, StoredBars
from mantra.backtests.models import BacktestJob, BacktestRequest, JobStatus
from mantra.backtests.service import BacktestJobs
from mantra.clock import IST, ManualClock
from mantra.domain import Plan, Role, User
from mantra.errors import Invalid
from mantra.market.eod import EodLoader
from mantra.market.fo_contracts import FoLookup
from nse_files import MemoryCandles, daily_candles, daily_panel, symbols_with_gaps

FIRST, LAST = date(2025, 1, 1), date(2025, 4, 30)  # the span of the real sample sessions


class Jobs:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], BacktestJob] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def submit(self, job: BacktestJob, detail_type: str, keep_days: int) -> None:
        self.items[(job.tenant_id, job.job_id)] = job

    def get(self, tenant_id: str, job_id: str) -> BacktestJob | None:
        return self.items.get((tenant_id, job_id))

    def result(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        return self.results.get(job_id)

    def recent(self, tenant_id: str, limit: int) -> list[BacktestJob]:
        return list(self.items.values())[:limit]

    def count_active(self, tenant_id: str) -> int:
        return 0

    def claim(self, tenant_id: str, job_id: str, now_ms: int) -> bool:
        return True

    def finish(self, tenant_id, job_id, status, now_ms, summary, result, error) -> None:  # type: ignore[no-untyped-def]
        job = self.items[(tenant_id, job_id)]
        self.items[(tenant_id, job_id)] = job.model_copy(update={"status": status, "error": error})
        if result is not None:
            self.results[job_id] = result

    def requeue(self, tenant_id: str, job_id: str) -> None:
        raise AssertionError("no job should need a retry here")


class Plans:
    def get(self, plan_id: str) -> Plan | None:
        return Plan(
            plan_id="pro",
            name="Pro",
            catalog="INR",
            currency="INR",
            price_minor=0,
            interval="month",
            rank=1,
            limits={"backtest_history_days": 100_000, "concurrent_backtests": 5},
            features=("backtests",),
        )


USER = User(
    user_id="usr_a",
    email="a@demo.in",
    name="a",
    tenant_id="ten_a",
    roles=frozenset({Role.TRADER}),
    plan_id="pro",
)


def _jobs(candles: MemoryCandles) -> tuple[BacktestJobs, Jobs]:
    repo = Jobs()
    clock = ManualClock(
        int(datetime(2026, 11, 23, 10, 0, tzinfo=IST).timestamp() * 1000)
    )  # long after the data
    return BacktestJobs(repo, Plans(), StoredBars(candles), clock), repo  # type: ignore[arg-type]


def _request(symbols: list[str], start: date = FIRST, end: date = LAST, **extra: Any) -> BacktestRequest:
    return BacktestRequest.model_validate(
        {
            "strategy": "sma_cross",
            "params": {"fast": 5, "slow": 20} if extra.get("strategy", "sma_cross") == "sma_cross" else {},
            "symbols": symbols,
            "start": start.isoformat(),
            "end": end.isoformat(),
            **extra,
        }
    )


def test_a_symbol_without_stored_bars_is_refused_at_submit_naming_it_and_the_span() -> None:
    service, repo = _jobs(MemoryCandles(daily_candles(["RELIANCE"])))
    with pytest.raises(Invalid) as e:
        service.submit(USER, _request(["RELIANCE", "WIPRO"]))
    msg = str(e.value)
    assert "WIPRO" in msg and "2025-01-01" in msg and "2025-04-30" in msg and "0 stored 1d bars" in msg
    assert repo.items == {}  # no job was created


def test_a_span_shorter_than_the_minimum_is_refused_and_the_benchmark_is_checked_too() -> None:
    service, repo = _jobs(MemoryCandles(daily_candles(["RELIANCE"])))
    with pytest.raises(Invalid, match=f"a backtest needs at least {MIN_STORED_BARS}"):
        service.submit(USER, _request(["RELIANCE"], start=date(2025, 4, 1)))
    with pytest.raises(Invalid, match="NIFTY 50: 0 stored"):
        service.submit(USER, _request(["RELIANCE"], benchmark="NIFTY 50"))
    assert repo.items == {}


def test_the_job_runs_on_the_real_closes_and_names_the_missing_sessions() -> None:
    # a real symbol with a few suspended or untraded days in the sample
    gappy = next(s for s in symbols_with_gaps() if np.isnan(daily_panel([s]).close).sum() in range(1, 10))
    service, repo = _jobs(MemoryCandles(daily_candles(["RELIANCE", gappy])))
    job = service.submit(USER, _request(["RELIANCE", gappy]))
    assert service.run(USER.tenant_id, job.job_id) is JobStatus.SUCCEEDED
    result = repo.results[job.job_id]
    panel = daily_panel(["RELIANCE", gappy])

    gap_days = [d.isoformat() for t, d in enumerate(panel.days) if np.isnan(panel.close[t, 1])]
    assert gap_days, "the fixture symbol has a gap"
    # the Saturday 2025-02-01 Budget session traded, but its file is not in the sample: missing for every symbol
    budget = "2025-02-01"
    assert result["data"]["RELIANCE"] == {
        "source": "stored",
        "bars": 80,
        "first": "2025-01-01",
        "last": "2025-04-30",
        "expected_sessions": 81,
        "missing_sessions": [budget],
    }
    assert result["data"][gappy]["missing_sessions"] == sorted([*gap_days, budget])
    assert any(
        w.startswith(f"{gappy}: no stored bar for {len(gap_days) + 1} of 81 sessions")
        for w in result["warnings"]
    )
    assert not any("simulated" in w for w in result["warnings"])


def _with_fo(candles: MemoryCandles, store: MemoryFoStore) -> tuple[BacktestJobs, Jobs]:
    repo = Jobs()
    clock = ManualClock(int(datetime(2026, 11, 23, 10, 0, tzinfo=IST).timestamp() * 1000))
    lookup = FoLookup(store).specs
    return BacktestJobs(repo, Plans(), StoredBars(candles), clock, lookup), repo  # type: ignore[arg-type]


def _fo_store() -> MemoryFoStore:
    store = MemoryFoStore()
    EodLoader(MemoryCandles(), fo=store).load_file(fo_files()[-1])
    return store


def _exchange_lot(symbol: str) -> int:
    rows = raw_rows(fo_files()[-1])
    near = min(
        (r["XpryDt"], int(r["NewBrdLotQty"]))
        for r in rows
        if r["TckrSymb"] == symbol and r["FinInstrmTp"] == "STF"
    )
    return near[1]


def test_an_option_strategy_on_stored_data_takes_the_exchanges_lot_size_and_strike_step() -> None:
    # Given stored RELIANCE bars and the exchange's F&O report of a session inside the span
    service, repo = _with_fo(MemoryCandles(daily_candles(["RELIANCE"])), _fo_store())
    request = _request(["RELIANCE"], strategy="covered_call", params={"dte": 10}, cash="2000000")
    # When a covered call is submitted without a lot size
    job = service.submit(USER, request)
    # Then the job carries the exchange's lot and strike interval, not the hand-typed default of 1
    assert job.request["params"]["lot_size"] == _exchange_lot("RELIANCE") > 1
    assert job.request["params"]["strike_step"] > 0
    assert service.run(USER.tenant_id, job.job_id) is JobStatus.SUCCEEDED, repo.items
    trades = repo.results[job.job_id]["trades"]
    assert trades and all(t["qty"] % _exchange_lot("RELIANCE") == 0 for t in trades)


def test_a_lot_size_that_contradicts_the_exchange_is_refused_naming_the_figure() -> None:
    service, repo = _with_fo(MemoryCandles(daily_candles(["RELIANCE"])), _fo_store())
    lot = _exchange_lot("RELIANCE")
    with pytest.raises(Invalid) as e:
        service.submit(USER, _request(["RELIANCE"], strategy="covered_call", params={"lot_size": lot + 1}))
    assert f"is {lot}" in str(e.value) and "RELIANCE" in str(e.value) and repo.items == {}
    assert service.submit(USER, _request(["RELIANCE"], strategy="covered_call", params={"lot_size": lot}))


def test_a_futures_backtest_sizes_in_the_exchanges_lots() -> None:
    service, _ = _with_fo(MemoryCandles(daily_candles(["RELIANCE"])), _fo_store())
    job = service.submit(USER, _request(["RELIANCE"], costs={"model": "india", "segment": "futures"}))
    assert job.request["sizing"]["lot_size"] == _exchange_lot("RELIANCE")


def test_without_a_stored_fo_report_covering_it_a_derivatives_backtest_is_refused_naming_underlying_and_date() -> (
    None
):
    service, repo = _with_fo(MemoryCandles(daily_candles(["RELIANCE"])), MemoryFoStore())
    with pytest.raises(Invalid) as e:
        service.submit(USER, _request(["RELIANCE"], strategy="covered_call"))
    assert "RELIANCE" in str(e.value) and LAST.isoformat() in str(e.value) and repo.items == {}
    # an equity backtest needs no F&O report
    assert service.submit(USER, _request(["RELIANCE"])).request["sizing"].get("lot_size", 1) == 1
