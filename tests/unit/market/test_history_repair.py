"""Backfill and gap repair over fake brokers and the in-memory candle store: which minutes are missing (in
session, per the calendar), what is asked for, what is written, and that a second run writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import timebase
from history_fakes import MINUTE, SBIN, FakeKite, FakeTime, InMemoryCandles, paise_of, trading_days_before
from mantra.domain import DEMO_SOURCE, Candle, Instrument
from mantra.feed.providers.history import KITE_LIMITS, KiteHistory
from mantra.market.broker_history import BROKER_HISTORY_SOURCE, BrokerHistoryError, HistoryResult, Pacer
from mantra.market.calendar import default_calendar
from mantra.market.history_repair import HistoryRepair

MON = timebase.SESSION_DAY  # a Monday of a full trading week
TUE = MON + timedelta(days=1)


def at(day: object, hh: int, mm: int, ss: int = 0) -> int:
    return timebase.ist_ms(day, hh, mm, ss)  # type: ignore[arg-type]


def bar(start_ms: int, source: str = "live", paise: int = 70_000) -> Candle:
    return Candle(
        symbol="SBIN", timeframe="1m", start_ms=start_ms, open_paise=paise, high_paise=paise, low_paise=paise,
        close_paise=paise, volume=9, ticks=3, first_tick_ms=start_ms + 1, last_tick_ms=start_ms + 59_000,
        source=source,
    )  # fmt: skip


def minutes(first: int, last_incl: int) -> list[int]:
    return list(range(first, last_incl + MINUTE, MINUTE))


def setup(now_ms: int, skip: set[int] | None = None) -> tuple[HistoryRepair, InMemoryCandles, FakeKite]:
    t, fake = FakeTime(), FakeKite(skip=skip)
    history = KiteHistory(lambda: fake, Pacer(KITE_LIMITS, t.monotonic, t.sleep), sleep=t.sleep)
    store = InMemoryCandles()
    return HistoryRepair(history, store, timebase.clock(now_ms)), store, fake


def test_an_outage_gap_is_found_fetched_once_and_filled_around_the_live_bars() -> None:
    # Given live bars for Tuesday except 10:00-10:59 (the feed was down), and a demo bar at 10:30
    repair, store, fake = setup(at(TUE, 18, 0))
    live = [m for m in minutes(at(TUE, 9, 15), at(TUE, 15, 29)) if not at(TUE, 10, 0) <= m < at(TUE, 11, 0)]
    store.put_many(bar(m) for m in live)
    store.put_many([bar(at(TUE, 10, 30), source=DEMO_SOURCE)])
    # When the day is repaired
    report = repair.repair(SBIN, at(TUE, 0, 0), at(TUE, 23, 59))
    # Then just that hour was asked for, in one request, and its 60 minutes written from the broker
    assert report.missing == 60 and report.spans == [(at(TUE, 10, 0), at(TUE, 11, 0))]
    assert len(fake.calls) == 1 and report.written == 60 and report.still_missing == 0
    filled = store.range("SBIN", "1m", at(TUE, 10, 0), at(TUE, 10, 59), 100)
    assert [c.start_ms for c in filled] == minutes(at(TUE, 10, 0), at(TUE, 10, 59))
    assert all(c.source == BROKER_HISTORY_SOURCE and c.close_paise == paise_of(c.start_ms) for c in filled)
    # and the live bars were left as they were
    assert all(store.items[("SBIN", "1m", m)].source == "live" for m in live)
    assert store.items[("SBIN", "1m", at(TUE, 9, 15))].close_paise == 70_000
    # When it runs again, nothing is asked and nothing written
    again = repair.repair(SBIN, at(TUE, 0, 0), at(TUE, 23, 59))
    assert (again.missing, again.written, len(fake.calls)) == (0, 0, 1)


def test_only_in_session_minutes_of_trading_days_are_missing() -> None:
    repair, _store, _ = setup(at(TUE, 18, 0))
    # Monday 15:00 to Tuesday 09:30: the close of one session and the open of the next, nothing overnight
    got = repair.missing_minutes("SBIN", at(MON, 15, 0), at(TUE, 9, 30))
    assert got == minutes(at(MON, 15, 0), at(MON, 15, 29)) + minutes(at(TUE, 9, 15), at(TUE, 9, 29))
    assert len(repair.spans(got)) == 2  # a night apart: two requests
    sunday = MON - timedelta(days=1)
    assert repair.missing_minutes("SBIN", at(sunday, 0, 0), at(sunday, 23, 59)) == []
    cal = default_calendar()
    holiday = next((d for d in sorted(cal.holidays) if d.weekday() < 5 and d < timebase.TODAY), None)
    if holiday is not None:
        assert repair.missing_minutes("SBIN", at(holiday, 0, 0), at(holiday, 23, 59)) == []


def test_the_forming_minute_is_never_asked_for() -> None:
    repair, store, _fake = setup(at(MON, 10, 0, 30))
    report = repair.repair(SBIN, at(MON, 9, 0), at(MON, 15, 30))
    assert report.missing == 45 and report.written == 45
    assert max(store.items)[2] == at(MON, 9, 59)


def test_backfill_covers_the_last_n_sessions_by_the_calendar_and_is_idempotent() -> None:
    # Given a newly subscribed instrument on Monday at 10:00:30, and no stored bars
    repair, store, fake = setup(at(MON, 10, 0, 30))
    # When three sessions are backfilled
    report = repair.backfill(SBIN, 3)
    # Then they are the two trading days before Monday and Monday so far
    days = [*trading_days_before(MON, 2), MON]
    assert repair.sessions(3) == days
    assert report.missing == 2 * 375 + 45 == report.written == len(store.items)
    assert min(store.items)[2] == at(days[0], 9, 15)
    assert all(c.source == BROKER_HISTORY_SOURCE for c in store.items.values())
    calls = len(fake.calls)
    assert calls == 3  # one request per session: the nights between are never merged
    # When it runs again nothing is asked or written
    again = repair.backfill(SBIN, 3)
    assert (again.missing, again.written, len(fake.calls)) == (0, 0, calls)


def test_before_the_open_today_is_not_a_session_yet() -> None:
    repair, _, _ = setup(at(TUE, 9, 10))
    assert repair.sessions(1) == [MON]
    with pytest.raises(ValueError, match="sessions must be between"):
        repair.sessions(0)


def test_minutes_the_broker_has_no_bar_for_stay_missing_and_are_not_invented() -> None:
    quiet = {at(MON, 11, 0), at(MON, 11, 1)}
    repair, store, _fake = setup(at(MON, 18, 0), skip=quiet)
    report = repair.repair(SBIN, at(MON, 10, 50), at(MON, 11, 10))
    assert (report.missing, report.written, report.still_missing) == (20, 18, 2)
    assert not quiet & {k[2] for k in store.items}
    again = repair.repair(SBIN, at(MON, 10, 50), at(MON, 11, 10))
    assert (again.missing, again.written) == (2, 0)


def test_close_gaps_share_one_request_without_touching_the_bars_between() -> None:
    repair, store, fake = setup(at(MON, 18, 0))
    store.put_many(bar(m) for m in minutes(at(MON, 9, 15), at(MON, 15, 29)))
    for m in minutes(at(MON, 10, 0), at(MON, 10, 4)) + minutes(at(MON, 10, 10), at(MON, 10, 14)):
        del store.items[("SBIN", "1m", m)]
    report = repair.repair(SBIN, at(MON, 9, 15), at(MON, 15, 30))
    assert report.spans == [(at(MON, 10, 0), at(MON, 10, 15))] and len(fake.calls) == 1
    assert report.written == 10
    between = store.range("SBIN", "1m", at(MON, 10, 5), at(MON, 10, 9), 10)
    assert {c.source for c in between} == {"live"}


class _Scripted:
    """A broker whose first span fails and whose answers race with the live feed writing the same minute."""

    name = "scripted"

    def __init__(self, inner: KiteHistory, store: InMemoryCandles, race_minute: int) -> None:
        self.inner, self.store, self.race_minute, self.calls = inner, store, race_minute, 0

    def fetch(self, instrument: Instrument, timeframe: str, start_ms: int, end_ms: int) -> HistoryResult:
        self.calls += 1
        if self.calls == 1:
            raise BrokerHistoryError("kite history SBIN: gave up after 6 attempts")
        got = self.inner.fetch(instrument, timeframe, start_ms, end_ms)
        self.store.put_many([bar(self.race_minute)])  # a live bar lands while the answer is on its way
        return got


def test_a_failed_span_never_loses_the_others_and_a_live_bar_written_meanwhile_wins() -> None:
    # Given a day of live bars with two gaps hours apart
    repair0, store, _ = setup(at(MON, 18, 0))
    gaps = minutes(at(MON, 9, 15), at(MON, 9, 19)) + minutes(at(MON, 14, 0), at(MON, 14, 9))
    store.put_many(bar(m) for m in minutes(at(MON, 9, 15), at(MON, 15, 29)) if m not in gaps)
    race = at(MON, 14, 5)
    broker = _Scripted(repair0._history, store, race)  # type: ignore[arg-type]
    repair = HistoryRepair(broker, store, timebase.clock(at(MON, 18, 0)))
    # When the first gap's request fails for good
    report = repair.repair(SBIN, at(MON, 9, 15), at(MON, 15, 30))
    # Then the second gap is still filled, except the minute the live feed wrote meanwhile
    assert len(report.spans) == 2 and len(report.errors) == 1
    assert report.written == 9 and store.items[("SBIN", "1m", race)].source == "live"
    assert ("SBIN", "1m", at(MON, 9, 15)) not in store.items
