"""The scanner product: plan limits, cost limits, tenancy, scheduled runs that store and publish once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from mantra.clock import IST, ManualClock, ist_from_ms
from mantra.errors import Invalid, LimitExceeded, NotFound
from mantra.market.history import HistoryLoader
from mantra.market.universes import Universe, universe
from mantra.quant.scanner import ScanSyntaxError, ScanTooExpensive
from mantra.scans.models import Every
from mantra.scans.service import SIGNAL_DETECTED, ScanService, due_intervals
from nse_files import MemoryCandles, daily_candles, daily_panel, symbols_with_gaps
from scan_fakes import Outbox, Plans, Scanners, Signals, plan, user

AT = datetime(2026, 11, 23, 10, 0, tzinfo=IST)  # a Monday, in the session
DEMO = list(universe("demo").symbols)


def _service(candles: MemoryCandles, universes=universe):
    scanners, signals, outbox = Scanners(), Signals(), Outbox()
    plans = Plans([plan("starter", scanners=2, instruments=50), plan("pro", scanners=25)])
    clock = ManualClock(int(AT.timestamp() * 1000))
    service = ScanService(scanners, signals, plans, outbox, HistoryLoader(candles), clock, universes)
    return service, scanners, signals, outbox


@pytest.fixture
def parts():
    """The demo symbols' real NSE sessions (2025-01-01 .. 2025-04-30) in the store, the clock long after."""
    return _service(MemoryCandles(daily_candles(DEMO)))


def test_run_on_demand_answers_on_each_symbols_latest_real_session_with_its_real_close(parts):
    service, *_ = parts
    panel = daily_panel(DEMO)
    run = service.run(user(), expression="close > 0", universe_spec="demo")
    assert run.scanned == 10 and len(run.hits) == 10
    assert ist_from_ms(run.bar_ms).date() == panel.days[-1]  # the latest stored session, named
    for h in run.hits:
        j = panel.symbols.index(h.symbol)
        assert h.close_paise == round(panel.close[-1, j] * 100)
        last, prev = (round(Decimal(str(panel.close[t, j])) * 100) for t in (-1, -2))
        assert h.change_pct == Decimal(last - prev) * 100 / Decimal(prev)  # exact, unrounded
    assert (run.no_data, run.short_history, run.stale) == ((), {}, {})


def test_as_of_scans_the_bars_up_to_that_session(parts):
    service, *_ = parts
    panel = daily_panel(DEMO)
    day = panel.days[40]
    run = service.run(user(), expression="close > 0", universe_spec="demo", as_of=day)
    assert ist_from_ms(run.bar_ms).date() == day
    tcs = next(h for h in run.hits if h.symbol == "TCS")
    assert tcs.close_paise == round(panel.close[40, panel.symbols.index("TCS")] * 100)
    # a holiday or weekend names the session before it
    sunday = next(d for d in (day + timedelta(n) for n in range(1, 8)) if d.weekday() == 6)
    before = max(d for d in panel.days if d < sunday)
    assert (
        ist_from_ms(
            service.run(user(), expression="close > 0", universe_spec="demo", as_of=sunday).bar_ms
        ).date()
        == before
    )
    with pytest.raises(Invalid, match=r"as_of: .* is in the future"):
        service.run(user(), expression="close > 0", universe_spec="demo", as_of=AT.date() + timedelta(1))


def test_missing_history_is_reported_and_never_filled_in():
    gappy = symbols_with_gaps()[0]
    panel = daily_panel([gappy])
    missing_last = bool(np.isnan(panel.close[-1, 0]))
    symbols = ("RELIANCE", gappy, "NOSUCHSTOCK")
    candles = daily_candles(["RELIANCE", gappy])
    # the gappy symbol also loses the last session, so it is stale on the panel's last bar
    last_start = max(c.start_ms for c in candles)
    candles = [c for c in candles if not (c.symbol == gappy and c.start_ms == last_start)]
    stored = MemoryCandles(candles)
    service, *_ = _service(stored, lambda spec: Universe("mixed", symbols))
    run = service.run(user(), expression="close > 0", universe_spec="mixed")
    assert run.no_data == ("NOSUCHSTOCK",)
    assert gappy in run.stale and run.stale[gappy] < run.bar_ms
    assert {h.symbol for h in run.hits} == {"RELIANCE"}  # nobody matches on a bar they do not have
    assert not missing_last or run.stale[gappy] < last_start
    # a short series: a 200-bar expression on 80 sessions
    long = service.run(user(), expression="close > sma(close, 200)", universe_spec="mixed")
    assert long.short_history["RELIANCE"] == len(daily_panel(["RELIANCE"]).days) and long.hits == ()
    assert len(stored.items) == len(candles)  # nothing was written, nothing generated


def test_bad_expression_is_invalid_with_its_position(parts):
    service, *_ = parts
    with pytest.raises(ScanSyntaxError) as e:
        service.run(user(), expression="(rsi(14) < 30", universe_spec="demo")
    assert str(e.value).startswith("line 1, col 14: expected ')'")
    assert isinstance(e.value, Invalid)


def test_expression_over_the_plan_budget_is_refused(parts):
    service, *_ = parts
    heavy = " and ".join(f"[{tf}] rsi({n}) < 30" for tf in ("5m", "15m", "1h") for n in (7, 14))
    with pytest.raises(ScanTooExpensive, match="Starter plan allows 40"):
        service.run(user(plan_id="starter"), expression=heavy, timeframe="1d", universe_spec="demo")
    assert isinstance(ScanTooExpensive(1, 0, "x"), LimitExceeded)


def test_universe_larger_than_the_plan_allows_is_refused(parts):
    service, *_ = parts
    small = Plans([plan("starter", scanners=2, instruments=5)])
    service._plans = small
    with pytest.raises(LimitExceeded, match="up to 5 instruments"):
        service.run(user(plan_id="starter"), expression="close > 0", universe_spec="nifty50")


def test_saved_scanner_count_is_limited_by_plan(parts):
    service, *_ = parts
    starter = user(plan_id="starter")
    for i in range(2):
        service.create(starter, f"s{i}", "rsi(14) < 30", "1d", "demo", Every.OFF)
    with pytest.raises(LimitExceeded, match="allows 2 saved scanners"):
        service.create(starter, "third", "rsi(14) < 30", "1d", "demo", Every.OFF)


def test_another_tenants_scanner_is_not_found(parts):
    service, *_ = parts
    mine = service.create(user(), "mine", "rsi(14) < 30", "1d", "demo", Every.OFF)
    other = user("usr_b", "ten_b")
    for call in (
        lambda: service.get(other, mine.scanner_id),
        lambda: service.update(other, mine.scanner_id, name="x"),
        lambda: service.delete(other, mine.scanner_id),
        lambda: service.run(other, scanner_id=mine.scanner_id),
        lambda: service.signals(other, mine.scanner_id),
    ):
        with pytest.raises(NotFound):
            call()
    assert service.list(other) == []


def test_update_revalidates_the_expression(parts):
    service, *_ = parts
    s = service.create(user(), "mine", "rsi(14) < 30", "1d", "demo", Every.OFF)
    with pytest.raises(ScanSyntaxError):
        service.update(user(), s.scanner_id, expression="rsi(14) <")
    changed = service.update(user(), s.scanner_id, expression="rsi(14) < 40", schedule=Every.FIVE_MINUTES)
    assert changed.expression == "rsi(14) < 40" and changed.schedule is Every.FIVE_MINUTES


def test_due_intervals_follow_the_session_clock():
    def at(h, m, day=23):
        return int(datetime(2026, 11, day, h, m, tzinfo=IST).timestamp() * 1000)

    assert due_intervals(at(9, 15)) == (Every.MINUTE, Every.FIVE_MINUTES, Every.FIFTEEN_MINUTES)
    assert due_intervals(at(9, 16)) == (Every.MINUTE,)
    assert due_intervals(at(9, 20)) == (Every.MINUTE, Every.FIVE_MINUTES)
    assert due_intervals(at(9, 10)) == ()  # before the open
    assert due_intervals(at(15, 31)) == ()  # after the close
    assert due_intervals(at(10, 0, day=22)) == ()  # Sunday


def test_due_intervals_follow_the_calendars_special_sessions():
    def at(d, h, m):
        return int(
            datetime.combine(d, datetime.min.time().replace(hour=h, minute=m), tzinfo=IST).timestamp() * 1000
        )

    budget_saturday = date(2025, 2, 1)  # a full session on a Saturday
    assert due_intervals(at(budget_saturday, 9, 30)) == (
        Every.MINUTE,
        Every.FIVE_MINUTES,
        Every.FIFTEEN_MINUTES,
    )
    assert due_intervals(at(date(2025, 2, 8), 9, 30)) == ()  # an ordinary Saturday
    # two windows on a Saturday (the DR-site drill): each counted from its own open
    assert due_intervals(at(date(2024, 3, 2), 11, 35)) == (Every.MINUTE, Every.FIVE_MINUTES)
    assert due_intervals(at(date(2024, 3, 2), 10, 30)) == ()  # between the windows
    # the Muhurat evening of a Diwali holiday: 18:00-19:00 only
    muhurat = date(2024, 11, 1)
    assert due_intervals(at(muhurat, 18, 15)) == (Every.MINUTE, Every.FIVE_MINUTES, Every.FIFTEEN_MINUTES)
    assert due_intervals(at(muhurat, 10, 0)) == ()


def test_scheduled_run_stores_and_publishes_each_new_hit_once_even_when_retried(parts):
    service, scanners, _signals, outbox = parts
    s = service.create(user(), "everything", "close > 0", "1d", "demo", Every.FIVE_MINUTES)
    service.create(user(), "not due", "close > 0", "1d", "demo", Every.FIFTEEN_MINUTES)
    at = AT.replace(minute=5)
    first = service.run_due(at)
    # the schedule is retried as if the first attempt died before recording its hits
    scanners.items[(s.tenant_id, s.scanner_id)] = scanners.items[(s.tenant_id, s.scanner_id)].model_copy(
        update={"last_hits": ()}
    )
    retry = service.run_due(at)
    assert first.due == ("1m", "5m") and first.scanners_run == 1
    assert first.signals == 10 and first.new_events == 10
    assert retry.signals == 0 and retry.new_events == 0
    assert {d["symbol"] for t, d in outbox.events.values() if t == SIGNAL_DETECTED} == set(
        universe("demo").symbols
    )
    detail = next(iter(outbox.events.values()))[1]
    assert detail["scanner_id"] == s.scanner_id and detail["tenant_id"] == "ten_a"
    assert isinstance(detail["price"], str) and "." in detail["price"]
    assert [x.symbol for x in service.signals(user(), s.scanner_id, 50)]


def test_a_symbol_still_matching_at_the_next_run_is_not_signalled_again(parts):
    service, _, _signals, outbox = parts
    service.create(user(), "everything", "close > 0", "1d", "demo", Every.MINUTE)
    service.run_due(AT)
    later = service.run_due(AT.replace(minute=1))
    assert later.scanners_run == 1 and later.signals == 0 and len(outbox.events) == 10


def test_exactly_one_source_must_be_given(parts):
    service, *_ = parts
    with pytest.raises(Invalid, match="exactly one"):
        service.run(user(), expression="close > 0", preset_id="golden_cross")
    with pytest.raises(NotFound, match="did you mean 'golden_cross'"):
        service.run(user(), preset_id="golden_cros")
