"""Scanners as a product: run on demand, save (within the plan's count and cost limits), run on schedule.

A scheduled run evaluates every saved scanner due at that minute; each symbol that *newly* matches (it did not
match at the scanner's previous run) becomes a stored signal and a ``signal.detected`` event in the outbox.
Signal and event ids derive from the scanner, the symbol and the scheduled time, so a retried schedule
invocation stores and announces each hit once.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime

from mantra.clock import IST, Clock, ist_from_ms
from mantra.domain import User
from mantra.errors import Invalid, LimitExceeded, NotFound
from mantra.market.calendar import NseCalendar, default_calendar
from mantra.market.history import HistoryLoader, uses_benchmark, uses_oi
from mantra.market.timeframes import TIMEFRAMES_MS
from mantra.market.universes import Universe, universe
from mantra.money import to_rupees
from mantra.ports import OutboxRepository, PlanRepository
from mantra.quant.scanner import Checked, compile_scan, enforce_budget, run_compiled
from mantra.quant.scanner.cost import budget_for
from mantra.quant.scanner.frame import Panel
from mantra.quant.scanner.presets import BY_ID, PRESETS, Preset
from mantra.scans.models import Every, Hit, Scanner, ScanRun, ScheduledRun, Signal
from mantra.scans.ports import ScannerRepository, SignalRepository

SIGNAL_DETECTED = "signal.detected"
MAX_NAME = 80


def signal_key(scanner_id: str, symbol: str, scheduled_for: datetime) -> str:
    key = f"{scanner_id}|{symbol}|{scheduled_for.isoformat()}"
    return "sig_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def due_intervals(at_ms: int, calendar: NseCalendar | None = None) -> tuple[Every, ...]:
    """Which schedules are due at this minute: inside one of the day's trading windows on the NSE calendar
    (09:15-15:30 IST on a normal day, a weekend session's windows, a Muhurat evening), counted from that
    window's open, its close minute included."""
    local = ist_from_ms(at_ms)
    minute = local.hour * 60 + local.minute
    for window in (calendar or default_calendar()).sessions(local.date()):
        opens, closes = (
            window.open.hour * 60 + window.open.minute,
            window.close.hour * 60 + window.close.minute,
        )
        if opens <= minute <= closes:
            since_open = minute - opens
            return tuple(
                e
                for e in (Every.MINUTE, Every.FIVE_MINUTES, Every.FIFTEEN_MINUTES)
                if since_open % e.minutes == 0
            )
    return ()


class ScanService:
    def __init__(
        self,
        scanners: ScannerRepository,
        signals: SignalRepository,
        plans: PlanRepository,
        outbox: OutboxRepository,
        loader: HistoryLoader,
        clock: Clock,
        universes: Callable[[str], Universe] = universe,
    ) -> None:
        self._scanners, self._signals, self._plans = scanners, signals, plans
        self._outbox, self._loader, self._clock, self._universes = outbox, loader, clock, universes

    # presets
    def presets(self) -> tuple[Preset, ...]:
        return PRESETS

    # compiling within the caller's plan
    def _plan(self, user: User) -> tuple[str, dict[str, int]]:
        plan = self._plans.get(user.plan_id)
        return (plan.name if plan else user.plan_id), (dict(plan.limits) if plan else {})

    def compile_for(self, user: User, expression: str, timeframe: str) -> Checked:
        compiled = compile_scan(expression, timeframe)
        name, limits = self._plan(user)
        enforce_budget(compiled, budget_for(user.plan_id, limits), name)
        return compiled

    def _universe(self, user: User, spec: str) -> Universe:
        uni = self._universes(spec)
        name, limits = self._plan(user)
        cap = limits.get("instruments")
        if cap is not None and len(uni.symbols) > cap:
            raise LimitExceeded(
                f"your {name} plan scans up to {cap} instruments; {uni.name} has {len(uni.symbols)}"
            )
        return uni

    # on demand
    def run(
        self,
        user: User,
        expression: str | None = None,
        timeframe: str = "1d",
        universe_spec: str = "nifty50",
        scanner_id: str | None = None,
        preset_id: str | None = None,
        limit: int = 100,
        as_of: date | None = None,
    ) -> ScanRun:
        """Run an expression, a saved scanner or a preset now, or on the bars up to the end of the session
        ``as_of`` (an IST date); nothing is stored or published."""
        given = [x for x in (expression, scanner_id, preset_id) if x]
        if len(given) != 1:
            raise Invalid("give exactly one of expression, scanner_id or preset_id")
        if scanner_id:
            saved = self.get(user, scanner_id)
            expression, timeframe, universe_spec = saved.expression, saved.timeframe, saved.universe
        elif preset_id:
            preset = BY_ID.get(preset_id)
            if preset is None:
                from mantra.quant.scanner.checker import did_you_mean

                hint = did_you_mean(preset_id, tuple(BY_ID))
                raise NotFound(f"preset {preset_id!r} not found" + (f"; {hint}" if hint else ""))
            expression, timeframe = preset.expression, preset.timeframe
        assert expression is not None
        compiled = self.compile_for(user, expression, timeframe)
        uni = self._universe(user, universe_spec)
        now = self._clock.now_ms()
        end_ms = now
        if as_of is not None:
            if as_of > ist_from_ms(now).date():
                raise Invalid(f"as_of: {as_of.isoformat()} is in the future")
            end_ms = (
                int(datetime.combine(as_of + timedelta(days=1), dtime(0), tzinfo=IST).timestamp() * 1000) - 1
            )
        return self.execute(compiled, uni, end_ms, limit)

    def execute(self, compiled: Checked, uni: Universe, end_ms: int, limit: int = 100) -> ScanRun:
        started = time.perf_counter()
        panel = self._loader.load(
            uni,
            compiled.base,
            compiled.needs,
            end_ms,
            uses_benchmark(compiled.functions),
            uses_oi(compiled.functions),
        )
        return self._outcome(compiled, uni, panel, limit, started)

    def _outcome(self, compiled: Checked, uni: Universe, panel: Panel, limit: int, started: float) -> ScanRun:
        outcome = run_compiled(compiled, panel)
        hits = tuple(
            Hit(
                symbol=m.symbol,
                close_paise=m.close_paise,
                change_pct=m.change_pct,
                volume=m.volume,
            )
            for m in outcome.matches[:limit]
        )
        return ScanRun(
            expression=compiled.source,
            timeframe=compiled.base,
            universe=uni.name,
            cost=compiled.cost,
            scanned=outcome.scanned,
            bar_ms=outcome.bar_ms,
            hits=hits,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            no_data=panel.coverage.no_data,
            short_history=dict(panel.coverage.short),
            stale=dict(panel.coverage.stale),
        )

    # saved scanners
    def create(
        self, user: User, name: str, expression: str, timeframe: str, universe_spec: str, schedule: Every
    ) -> Scanner:
        name = self._name(name)
        compiled = self.compile_for(user, expression, timeframe)
        uni = self._universe(user, universe_spec)
        plan_name, limits = self._plan(user)
        cap = limits.get("scanners", 0)
        if self._scanners.count(user.tenant_id) >= cap:
            raise LimitExceeded(
                f"your {plan_name} plan allows {cap} saved scanners; delete one or upgrade for more"
            )
        now = self._clock.now_ms()
        scanner = Scanner(
            tenant_id=user.tenant_id,
            scanner_id="scn_" + secrets.token_hex(8),
            user_id=user.user_id,
            name=name,
            expression=expression.strip(),
            timeframe=timeframe,
            universe=uni.name,
            schedule=schedule,
            cost=compiled.cost,
            created_ms=now,
            updated_ms=now,
        )
        self._scanners.create(scanner)
        return scanner

    def list(self, user: User) -> list[Scanner]:
        return self._scanners.list(user.tenant_id)

    def get(self, user: User, scanner_id: str) -> Scanner:
        found = self._scanners.get(user.tenant_id, scanner_id)
        if found is None:
            raise NotFound(f"scanner {scanner_id} not found")
        return found

    def update(
        self,
        user: User,
        scanner_id: str,
        name: str | None = None,
        expression: str | None = None,
        timeframe: str | None = None,
        universe_spec: str | None = None,
        schedule: Every | None = None,
    ) -> Scanner:
        current = self.get(user, scanner_id)
        expr = expression if expression is not None else current.expression
        tf = timeframe or current.timeframe
        compiled = self.compile_for(user, expr, tf)
        uni = self._universe(user, universe_spec) if universe_spec is not None else None
        changed = current.model_copy(
            update={
                "name": self._name(name) if name is not None else current.name,
                "expression": expr.strip(),
                "timeframe": tf,
                "universe": uni.name if uni else current.universe,
                "schedule": schedule if schedule is not None else current.schedule,
                "cost": compiled.cost,
                "updated_ms": self._clock.now_ms(),
                # a new condition starts afresh: everything that matches is new to it
                "last_hits": ()
                if (expr, tf) != (current.expression, current.timeframe)
                else current.last_hits,
            }
        )
        if not self._scanners.update(changed):
            raise NotFound(f"scanner {scanner_id} not found")
        return changed

    def delete(self, user: User, scanner_id: str) -> None:
        if not self._scanners.delete(user.tenant_id, scanner_id):
            raise NotFound(f"scanner {scanner_id} not found")

    def signals(self, user: User, scanner_id: str | None = None, limit: int = 50) -> builtins.list[Signal]:
        if scanner_id:
            self.get(user, scanner_id)
        return self._signals.list(user.tenant_id, scanner_id, limit)

    @staticmethod
    def _name(name: str) -> str:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise Invalid(f"name: 1 to {MAX_NAME} characters")
        return name

    # scheduled
    def run_due(self, scheduled_for: datetime) -> ScheduledRun:
        at_ms = int(scheduled_for.timestamp() * 1000)
        due = due_intervals(at_ms)
        scanners = [s for every in due for s in self._scanners.due(every)]
        groups: dict[tuple[str, str], list[Scanner]] = defaultdict(list)
        for s in scanners:
            groups[(s.universe, s.timeframe)].append(s)
        failed: list[str] = []
        stored = new_events = 0
        for (uni_spec, tf), members in groups.items():
            compiled: dict[str, Checked] = {}
            for s in members:
                try:
                    compiled[s.scanner_id] = compile_scan(s.expression, s.timeframe)
                except Invalid:
                    failed.append(s.scanner_id)
            members = [s for s in members if s.scanner_id in compiled]
            if not members:
                continue
            needs: dict[str, int] = {}
            for c in compiled.values():
                for k, v in c.needs.items():
                    needs[k] = max(needs.get(k, 0), v)
            try:
                uni = self._universes(uni_spec)
                bench = any(uses_benchmark(c.functions) for c in compiled.values())
                oi = any(uses_oi(c.functions) for c in compiled.values())
                panel = self._loader.load(uni, tf, needs, at_ms, bench, oi)
            except Exception:
                failed.extend(s.scanner_id for s in members)
                continue
            for s in members:
                try:
                    run = self._outcome(compiled[s.scanner_id], uni, panel, 10_000, time.perf_counter())
                except Exception:
                    failed.append(s.scanner_id)
                    continue
                new = [h for h in run.hits if h.symbol not in set(s.last_hits)]
                for hit in new:
                    signal = Signal(
                        tenant_id=s.tenant_id,
                        signal_id=signal_key(s.scanner_id, hit.symbol, scheduled_for),
                        scanner_id=s.scanner_id,
                        scanner_name=s.name,
                        user_id=s.user_id,
                        symbol=hit.symbol,
                        timeframe=s.timeframe,
                        price_paise=hit.close_paise,
                        change_pct=hit.change_pct,
                        detected_ms=at_ms,
                        bar_ms=run.bar_ms,
                    )
                    stored += self._signals.put_if_absent(signal)
                    new_events += self._outbox.put_if_absent(
                        signal.signal_id, SIGNAL_DETECTED, signal_detail(signal), at_ms
                    )
                self._scanners.record_run(s.tenant_id, s.scanner_id, at_ms, tuple(h.symbol for h in run.hits))
        return ScheduledRun(
            scheduled_ms=at_ms,
            due=tuple(e.value for e in due),
            scanners_run=len(scanners) - len(failed),
            failed=tuple(failed),
            signals=stored,
            new_events=new_events,
        )


def signal_detail(s: Signal) -> dict[str, object]:
    """The ``signal.detected`` event: what alerts subscribe to. Prices are exact rupee strings."""
    return {
        "scan_id": s.scanner_id,
        "scanner_id": s.scanner_id,
        "scanner_name": s.scanner_name,
        "tenant_id": s.tenant_id,
        "user_id": s.user_id,
        "symbol": s.symbol,
        "timeframe": s.timeframe,
        "price": str(to_rupees(s.price_paise)),
        "change_pct": None if s.change_pct is None else str(s.change_pct),
        "detected_ms": s.detected_ms,
        "bar_ms": s.bar_ms,
    }


def validate_timeframe(tf: str) -> str:
    if tf not in TIMEFRAMES_MS:
        raise Invalid(f"timeframe: use one of {', '.join(TIMEFRAMES_MS)}")
    return tf
