"""Backtest jobs: submit (plan limits, validation), run (once per job), read back per tenant.

On stored data, a derivatives backtest (an option strategy, or costs for the futures/options segment) takes
its lot size, and an option strategy its strike interval, from the exchange's F&O report stored for the
backtest's last day (``market.fo_contracts``), never a figure typed by hand; the job keeps the figures it ran
with. An underlying no stored report covers is refused (422) naming it and the date.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Protocol

from mantra.backtests.bars import BarSource, require_history
from mantra.backtests.models import BACKTEST_REQUESTED, BacktestJob, BacktestRequest, JobStatus
from mantra.clock import Clock, ist_from_ms
from mantra.domain import User
from mantra.errors import Invalid, LimitExceeded, NotFound
from mantra.market.fo_contracts import ContractSpecs
from mantra.money import to_paise
from mantra.ports import PlanRepository
from mantra.quant.backtest.service import BacktestJobError, BacktestJobSpec, SeriesIn, run_backtest_job
from mantra.quant.strategies.registry import StrategyError, StrategySpec, get_strategy

log = logging.getLogger(__name__)
KEEP_RESULTS_DAYS = 365
MAX_ATTEMPTS = 3
DERIVATIVE_SEGMENTS = ("futures", "options")

ContractLookup = Callable[[str, date], ContractSpecs]  # underlying, as-of date (``FoLookup.specs``)


class BacktestJobRepository(Protocol):
    def submit(self, job: BacktestJob, detail_type: str, keep_days: int) -> None: ...
    def get(self, tenant_id: str, job_id: str) -> BacktestJob | None: ...
    def result(self, tenant_id: str, job_id: str) -> dict[str, Any] | None: ...
    def recent(self, tenant_id: str, limit: int) -> list[BacktestJob]: ...
    def count_active(self, tenant_id: str) -> int: ...
    def claim(self, tenant_id: str, job_id: str, now_ms: int) -> bool: ...
    def finish(
        self,
        tenant_id: str,
        job_id: str,
        status: JobStatus,
        now_ms: int,
        summary: dict[str, Any] | None,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> None: ...
    def requeue(self, tenant_id: str, job_id: str) -> None: ...


class BacktestJobs:
    def __init__(
        self,
        jobs: BacktestJobRepository,
        plans: PlanRepository,
        bars: BarSource,
        clock: Clock,
        contracts: ContractLookup | None = None,
    ) -> None:
        self._jobs, self._plans, self._bars, self._clock = jobs, plans, bars, clock
        self._contracts = contracts

    # --- the API side

    def submit(self, user: User, request: BacktestRequest) -> BacktestJob:
        try:
            strategy = get_strategy(request.strategy)
            strategy.resolve(request.params)
        except StrategyError as exc:
            raise Invalid(f"strategy: {exc}") from None
        plan = self._plans.get(user.plan_id)
        limits = plan.limits if plan else {}
        history_days = limits.get("backtest_history_days", 365)
        first = request.start or _first_bar_date(request)
        today = ist_from_ms(self._clock.now_ms()).date()  # sessions are IST dates
        if first is not None and first < today - timedelta(days=history_days):
            raise LimitExceeded(
                f"start: your plan backtests up to {history_days} days of history "
                f"(from {today - timedelta(days=history_days)}); upgrade for more"
            )
        if request.symbols and request.start and request.end:
            # refused here, with no job created, rather than failing (or worse, inventing bars) later
            for symbol in [*request.symbols, *([request.benchmark.upper()] if request.benchmark else [])]:
                loaded = self._bars.load(symbol, request.timeframe, request.start, request.end)
                require_history(loaded, request.timeframe, request.start, request.end)
            request = self._exchange_lots(request, strategy)
        concurrent = limits.get("concurrent_backtests", 1)
        if self._jobs.count_active(user.tenant_id) >= concurrent:
            raise LimitExceeded(
                f"your {plan.name if plan else user.plan_id} plan runs {concurrent} backtest(s) at a time; "
                "wait for one to finish or upgrade"
            )
        now = self._clock.now_ms()
        job = BacktestJob(
            job_id=f"bt_{now:013d}_{secrets.token_hex(4)}",
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            status=JobStatus.QUEUED,
            request=request.model_dump(mode="json", exclude_none=True),
            created_ms=now,
        )
        self._jobs.submit(job, BACKTEST_REQUESTED, KEEP_RESULTS_DAYS)
        return job

    def get(self, user: User, job_id: str) -> BacktestJob:
        job = self._jobs.get(user.tenant_id, job_id)
        if job is None:
            raise NotFound(f"backtest {job_id} not found")
        return job

    def result(self, user: User, job_id: str) -> dict[str, Any] | None:
        self.get(user, job_id)
        return self._jobs.result(user.tenant_id, job_id)

    def recent(self, user: User, limit: int = 50) -> list[BacktestJob]:
        return self._jobs.recent(user.tenant_id, limit)

    def _exchange_lots(self, request: BacktestRequest, strategy: StrategySpec) -> BacktestRequest:
        """The exchange's lot size (and strike interval) for a derivatives backtest on stored data."""
        if self._contracts is None or not request.symbols:
            return request
        return _with_lots(request, strategy, self._contracts)

    # --- the runner side

    def run(self, tenant_id: str, job_id: str) -> JobStatus:
        """Run a queued job once. Bad input fails the job with the reason; other errors retry, then fail."""
        if not self._jobs.claim(tenant_id, job_id, self._clock.now_ms()):
            job = self._jobs.get(tenant_id, job_id)
            return job.status if job else JobStatus.FAILED  # already done or being done: do nothing
        job = self._jobs.get(tenant_id, job_id)
        assert job is not None
        try:
            spec, warnings, data = self._spec(job)
            result = run_backtest_job(spec).model_dump(mode="json")
            result["warnings"] = [*warnings, *result.get("warnings", [])]
            result["data"] = data
        except (BacktestJobError, Invalid, ValueError) as exc:
            self._jobs.finish(tenant_id, job_id, JobStatus.FAILED, self._clock.now_ms(), None, None, str(exc))
            return JobStatus.FAILED
        except Exception:
            if job.attempts >= MAX_ATTEMPTS:
                log.exception("backtest %s failed for good", job_id)
                self._jobs.finish(
                    tenant_id,
                    job_id,
                    JobStatus.FAILED,
                    self._clock.now_ms(),
                    None,
                    None,
                    "internal error; the team has been alerted",
                )
                return JobStatus.FAILED
            self._jobs.requeue(tenant_id, job_id)
            raise
        self._jobs.finish(
            tenant_id, job_id, JobStatus.SUCCEEDED, self._clock.now_ms(), _summary(result), result, None
        )
        return JobStatus.SUCCEEDED

    def _spec(self, job: BacktestJob) -> tuple[BacktestJobSpec, list[str], dict[str, Any]]:
        req = BacktestRequest.model_validate(job.request)
        warnings: list[str] = []
        data: dict[str, Any] = {}
        if req.series is not None:
            series = req.series
            data = {s.symbol: {"source": "request", "bars": len(s.bars)} for s in req.series}
        else:
            assert req.symbols and req.start and req.end
            series = []
            for symbol in req.symbols:
                loaded = self._bars.load(symbol, req.timeframe, req.start, req.end)
                require_history(loaded, req.timeframe, req.start, req.end)
                if note := loaded.warning():
                    warnings.append(note)
                data[symbol] = loaded.describe()
                series.append(_series(symbol, loaded.bars))
        benchmark = None
        if req.benchmark and req.start and req.end:
            bench = self._bars.load(req.benchmark.upper(), req.timeframe, req.start, req.end)
            require_history(bench, req.timeframe, req.start, req.end)
            data[bench.symbol] = bench.describe()
            benchmark = _series(bench.symbol, bench.bars)
        spec = BacktestJobSpec(
            job_id=job.job_id,
            strategy=req.strategy,
            params=req.params,
            series=series,
            benchmark=benchmark,
            cash_paise=to_paise(req.cash),
            costs=req.costs,
            sizing=req.sizing,
            exits=req.exits,
            monte_carlo=req.monte_carlo,
            optimize=req.optimize,
            include_report_html=req.report,
        )
        return spec, warnings, data


def _series(symbol: str, bars: list[Any]) -> SeriesIn:
    if len(bars) < 2:
        raise Invalid(f"{symbol}: not enough bars in the requested range")
    keep = ("start_ms", "open_paise", "high_paise", "low_paise", "close_paise", "volume")
    return SeriesIn.model_validate(
        {"symbol": symbol, "bars": [{k: getattr(b, k) for k in keep} for b in bars]}
    )


def _first_bar_date(request: BacktestRequest) -> date | None:
    if not request.series:
        return None
    first_ms = min(s.bars[0].start_ms for s in request.series)
    return ist_from_ms(first_ms).date()  # a daily bar starts at IST midnight: the day before in UTC


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("total_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate", "end_value_paise")
    return {
        "symbols": result["symbols"],
        "bars": result["bars"],
        **{k: result["metrics"].get(k) for k in keys},
    }


def _differs(given: object, exchange: float, what: str, specs: ContractSpecs) -> None:
    if given is not None and float(str(given)) != exchange:
        shown = int(exchange) if exchange == int(exchange) else exchange
        raise Invalid(
            f"{what}: the exchange's {what.replace('_', ' ')} for {specs.underlying} as of "
            f"{specs.as_of.isoformat()} is {shown} (F&O report of {specs.session.isoformat()}), not {given}; "
            f"leave {what} out to use it"
        )


def _with_lots(request: BacktestRequest, strategy: StrategySpec, lookup: ContractLookup) -> BacktestRequest:
    assert request.symbols and request.end
    options = strategy.kind == "options"
    if not options and request.costs.segment not in DERIVATIVE_SEGMENTS:
        return request
    try:
        found = [lookup(symbol, request.end) for symbol in request.symbols]
    except Invalid as exc:
        raise Invalid(f"lot size: {exc}") from None
    lots = {s.lot_size for s in found}
    if len(lots) > 1:
        named = ", ".join(f"{s.underlying} {s.lot_size}" for s in found)
        raise Invalid(f"lot size: these underlyings trade in different lots ({named}); backtest them apart")
    specs = found[0]
    if options:
        params = dict(request.params)
        _differs(params.get("lot_size"), specs.lot_size, "lot_size", specs)
        params["lot_size"] = specs.lot_size
        if "strike_step" not in params and specs.strike_step_paise is not None:
            params["strike_step"] = specs.strike_step_paise / 100
        return request.model_copy(update={"params": params})
    given = request.sizing.lot_size if "lot_size" in request.sizing.model_fields_set else None
    _differs(given, specs.lot_size, "lot_size", specs)
    return request.model_copy(
        update={"sizing": request.sizing.model_copy(update={"lot_size": specs.lot_size})}
    )
