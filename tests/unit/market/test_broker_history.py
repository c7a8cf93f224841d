"""Broker history adapters over fake SDK clients: chunking, pacing, retries, conversion. No sockets, no sleeps."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import timebase
from history_fakes import MINUTE, SBIN, FakeAngel, FakeKite, FakeTime, paise_of, parse_ist
from kiteconnect import exceptions as kex
from mantra.feed.providers.history import ANGEL_LIMITS, KITE_LIMITS, AngelHistory, KiteHistory
from mantra.market.broker_history import (
    BROKER_HISTORY_SOURCE,
    BrokerHistoryError,
    Pacer,
    chunks,
    parse_rows,
    to_paise,
    to_utc_ms,
)
from SmartApi.smartExceptions import DataException

DAY = 86_400_000
MON = timebase.SESSION_DAY
OPEN_MS = timebase.ist_ms(MON, 9, 15)


def kite(fake: FakeKite, t: FakeTime) -> KiteHistory:
    return KiteHistory(lambda: fake, Pacer(KITE_LIMITS, t.monotonic, t.sleep), sleep=t.sleep)


def angel(fake: FakeAngel, t: FakeTime) -> AngelHistory:
    return AngelHistory(lambda: fake, Pacer(ANGEL_LIMITS, t.monotonic, t.sleep), sleep=t.sleep)


# conversion
def test_prices_become_exact_paise_from_the_json_number() -> None:
    # Given prices as the JSON held them and as the SDK parsed them (floats)
    texts = ["812.05", "2.675", "1234.1", "0.3", "19999.95", "1250"]
    parsed = json.loads("[" + ",".join(texts) + "]")
    # Then each is the paise the text names, with no float drift (2.675 is 2.67499.. as a binary float)
    assert [to_paise(p) for p in parsed] == [81205, 268, 123410, 30, 1999995, 125000]
    assert to_paise(0.1 + 0.2) == 30
    assert to_paise(Decimal("10.005")) == 1001  # half away from zero, never truncated
    for bad in (float("nan"), float("inf"), True, None, "abc"):
        with pytest.raises(ValueError):
            to_paise(bad)


def test_bar_times_with_either_offset_spelling_become_utc_ms() -> None:
    want = int(datetime(2024, 1, 1, 3, 45, tzinfo=UTC).timestamp() * 1000)
    assert to_utc_ms("2024-01-01T09:15:00+0530") == want  # Kite
    assert to_utc_ms("2024-01-01T09:15:00+05:30") == want  # Angel
    with pytest.raises(ValueError, match="no UTC offset"):
        to_utc_ms("2024-01-01T09:15:00")


def test_a_bad_row_is_reported_and_its_neighbours_kept() -> None:
    rows = json.loads(
        '[["2024-01-01T09:15:00+05:30", 812.05, 812.5, 811.9, 812.1, 100],'
        ' ["2024-01-01T09:16:00+05:30", 812.1, 811.0, 812.0, 812.2, 50],'
        ' ["not a time", 1, 1, 1, 1, 1],'
        ' ["2024-01-01T09:17:00+05:30", 812.2, 812.2, 812.2, 812.2, -1],'
        ' ["2024-01-01T09:18:30+05:30", 812.2, 812.2, 812.2, 812.2, 5],'
        ' ["2024-01-01T09:19:00+05:30", 812.2, 812.3, 812.1, 812.25, 7]]'
    )
    start = to_utc_ms("2024-01-01T09:15:00+05:30")
    candles, problems = parse_rows("angel", "SBIN", "1m", rows, start, start + 10 * MINUTE)
    assert [(c.start_ms - start) // MINUTE for c in candles] == [0, 4]
    assert candles[0].open_paise == 81205 and candles[1].close_paise == 81225
    assert all(c.source == BROKER_HISTORY_SOURCE and not c.is_demo for c in candles)
    whys = [p.why for p in problems]
    assert len(whys) == 4
    assert "high/low" in whys[0] and "volume" in whys[2] and "boundary" in whys[3]


# chunking
def test_a_span_is_cut_into_contiguous_chunks_within_the_day_limit() -> None:
    start = OPEN_MS
    end = start + 75 * DAY + 5 * MINUTE
    parts = chunks(start, end, 30)
    assert parts[0][0] == start and parts[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    assert all(e - s <= 30 * DAY for s, e in parts)
    assert len(parts) == 3


def test_kite_minute_history_asks_at_most_60_days_a_request_in_ist_with_inclusive_to() -> None:
    t, fake = FakeTime(), FakeKite()
    start, end = OPEN_MS - 100 * DAY, OPEN_MS + 6 * 60 * MINUTE
    got = kite(fake, t).fetch(SBIN, "1m", start, end)
    assert len(fake.calls) == 2 and got.requests == 2
    for token, first, last, interval, _ in fake.calls:
        assert token == 779521 and interval == "minute"
        assert parse_ist(last) - parse_ist(first) < 60 * DAY
    assert parse_ist(fake.calls[0][1]) == start
    assert parse_ist(fake.calls[-1][2]) == end - MINUTE  # the last bar starting before ``end``
    assert parse_ist(fake.calls[1][1]) == parse_ist(fake.calls[0][2]) + MINUTE  # no gap, no overlap
    starts = [c.start_ms for c in got.candles]
    assert starts == sorted(set(starts)) and starts[0] >= start and starts[-1] < end
    assert got.candles[-1].start_ms == end - MINUTE
    assert all(c.close_paise == paise_of(c.start_ms) for c in got.candles)


def test_angel_minute_history_asks_at_most_30_days_with_its_own_fields() -> None:
    t, fake = FakeTime(), FakeAngel()
    start, end = OPEN_MS - 70 * DAY, OPEN_MS + 30 * MINUTE
    got = angel(fake, t).fetch(SBIN, "1m", start, end)
    assert len(fake.calls) == 3
    for p in fake.calls:
        assert (p["exchange"], p["symboltoken"], p["interval"]) == ("NSE", "3045", "ONE_MINUTE")
        assert len(p["fromdate"]) == len("2024-01-01 09:15")
        assert parse_ist(p["todate"]) - parse_ist(p["fromdate"]) < 30 * DAY
    assert got.candles[-1].start_ms == end - MINUTE
    assert all(c.open_paise == paise_of(c.start_ms) for c in got.candles)


# pacing
def test_kite_requests_are_paced_to_three_a_second() -> None:
    t, fake = FakeTime(), FakeKite()
    t.now = 0.0
    fake.time = t
    fake.rows = lambda first, last, step: []
    # Given a span needing 10 requests (5-minute bars, 100 days each)
    kite(fake, t).fetch(SBIN, "5m", OPEN_MS - 1000 * DAY, OPEN_MS)
    starts = [c[4] for c in fake.calls]
    assert len(starts) == 10
    # Then no one-second window holds more than three, and the run took the time that needs
    assert all(starts[i + 3] - starts[i] >= 1.0 for i in range(len(starts) - 3))
    assert starts[-1] == pytest.approx(3.0)


def test_angel_pacing_also_keeps_the_per_minute_limit() -> None:
    t = FakeTime()
    t.now = 0.0
    pacer = Pacer(ANGEL_LIMITS, t.monotonic, t.sleep)
    starts = []
    for _ in range(181):
        pacer.wait()
        starts.append(t.now)
    assert all(starts[i + 3] - starts[i] >= 1.0 for i in range(len(starts) - 3))
    assert starts[180] - starts[0] >= 60.0  # the 181st waits for the first minute's window to pass


# retries
def test_kite_429_is_retried_with_backoff_and_the_answer_kept() -> None:
    t, fake = FakeTime(), FakeKite()
    fake.failures = [kex.NetworkException("Too many requests", code=429)] * 2
    got = kite(fake, t).fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 10 * MINUTE)
    assert len(fake.calls) == 3 and got.requests == 3
    assert [s for s in t.sleeps if s >= 1.0][:2] == [1.0, 2.0]  # exponential backoff
    assert len(got.candles) == 10


def test_kite_gives_up_after_the_retry_budget_and_never_retries_a_refusal() -> None:
    t, fake = FakeTime(), FakeKite()
    fake.failures = [kex.NetworkException("Too many requests", code=429)] * 10
    with pytest.raises(BrokerHistoryError, match="gave up after 6 attempts"):
        kite(fake, t).fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 10 * MINUTE)
    assert len(fake.calls) == 6
    t2, fake2 = FakeTime(), FakeKite()
    fake2.failures = [kex.InputException("invalid from date", code=400)]
    with pytest.raises(BrokerHistoryError, match="HTTP 400"):
        kite(fake2, t2).fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 10 * MINUTE)
    assert len(fake2.calls) == 1


def test_an_expired_kite_session_logs_in_again() -> None:
    t, fake = FakeTime(), FakeKite()
    fake.failures = [kex.TokenException("Incorrect `api_key` or `access_token`.", code=403)]
    logins = []

    def connect() -> FakeKite:
        logins.append(1)
        return fake

    history = KiteHistory(connect, Pacer(KITE_LIMITS, t.monotonic, t.sleep), sleep=t.sleep)
    assert len(history.fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 3 * MINUTE).candles) == 3
    assert len(logins) == 2


def test_angel_rate_limit_answers_are_retried() -> None:
    t, fake = FakeTime(), FakeAngel()
    fake.answers = [
        DataException(
            "Couldn't parse the JSON response received from the server: "
            "b'Access denied because of exceeding access rate'"
        ),
        {"status": False, "message": "Something Went Wrong, Please Try After Sometime", "errorcode": "AB1004",
         "data": None},
        {"success": False, "message": "Invalid Token", "errorCode": "AG8001", "data": ""},
    ]  # fmt: skip
    got = angel(fake, t).fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 5 * MINUTE)
    assert len(fake.calls) == 4 and len(got.candles) == 5
    fake.answers = [{"status": False, "message": "Invalid symbol token", "errorcode": "AB1018", "data": None}]
    with pytest.raises(BrokerHistoryError, match="AB1018"):
        angel(fake, t).fetch(SBIN, "1m", OPEN_MS, OPEN_MS + 5 * MINUTE)


def test_an_empty_answer_is_no_candles_not_an_error() -> None:
    t, fake = FakeTime(), FakeAngel()
    fake.answers = [{"status": True, "message": "SUCCESS", "errorcode": "", "data": []}]
    sunday = timebase.ist_ms(MON - timedelta(days=1), 10)
    assert angel(fake, t).fetch(SBIN, "1m", sunday, sunday + 30 * MINUTE).candles == []


def test_bad_requests_are_refused_before_any_call() -> None:
    t, fake = FakeTime(), FakeKite()
    with pytest.raises(ValueError, match="unknown timeframe"):
        kite(fake, t).fetch(SBIN, "2m", OPEN_MS, OPEN_MS + MINUTE)
    with pytest.raises(ValueError, match="empty span"):
        kite(fake, t).fetch(SBIN, "1m", OPEN_MS, OPEN_MS)
    no_token = SBIN.model_copy(update={"broker_tokens": {}, "token": "SBIN-EQ"})
    with pytest.raises(BrokerHistoryError, match="no Kite instrument token"):
        kite(fake, t).fetch(no_token, "1m", OPEN_MS, OPEN_MS + MINUTE)
    assert fake.calls == []
