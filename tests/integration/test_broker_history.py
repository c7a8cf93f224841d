"""Broker history over loopback brokers speaking Kite Connect's and SmartAPI's history formats, through the real
SDKs, into DynamoDB Local: backfill and gap repair store the right candles once, within the rate limits."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import timebase
from feed_servers import KITE_SESSION, BrokerAccounts, BrokerHttp, HistoryTape
from mantra.cli.main import app
from mantra.clock import utc_from_ms
from mantra.domain import DEMO_SOURCE, Candle, Instrument
from mantra.feed.providers.history import (
    AngelHistory,
    KiteHistory,
    angel_connect,
    broker_history,
    kite_connect,
)
from mantra.feed.providers.kite import KiteProvider
from mantra.market.broker_history import BROKER_HISTORY_SOURCE, Retry
from mantra.market.calendar import default_calendar
from mantra.market.history_repair import HistoryRepair
from mantra.settings import Settings
from mantra.store.aws import client
from mantra.store.repositories import DynamoCandleRepository, DynamoInstrumentRepository
from typer.testing import CliRunner

MINUTE = 60_000
MON = timebase.SESSION_DAY  # a Monday of a full trading week
TUE = MON + timedelta(days=1)
FAST = Retry(attempts=6, base_s=0.05, cap_s=0.5)  # the backoff's shape, in test time


def at(day: object, hh: int, mm: int, ss: int = 0) -> int:
    return timebase.ist_ms(day, hh, mm, ss)  # type: ignore[arg-type]


def instrument(symbol: str, kite_token: str, angel_token: str) -> Instrument:
    return Instrument(
        symbol=symbol, token=angel_token, exchange="NSE", name=symbol, instrument_type="EQ",
        broker_tokens={"kite": kite_token, "angel": angel_token},
    )  # fmt: skip


def _plain(output: str) -> str:
    """The CLI's table as words: box-drawing characters and runs of spaces gone."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", output).split())


def paise(minute_ms: int) -> int:
    rupees, _, p = HistoryTape.price_text(minute_ms).partition(".")
    return int(rupees) * 100 + int(p)


def live_bar(symbol: str, start_ms: int, source: str = "live") -> Candle:
    return Candle(
        symbol=symbol, timeframe="1m", start_ms=start_ms, open_paise=99_900, high_paise=99_900,
        low_paise=99_900, close_paise=99_900, volume=7, ticks=2, first_tick_ms=start_ms + 100,
        last_tick_ms=start_ms + 58_000, source=source,
    )  # fmt: skip


@pytest.fixture
def broker() -> Iterator[tuple[BrokerAccounts, BrokerHttp]]:
    accounts = BrokerAccounts()
    http = BrokerHttp(accounts)
    http.tape.holidays = {d for d in default_calendar().holidays}
    try:
        yield accounts, http
    finally:
        http.close()


def test_kite_backfill_of_new_instrument_stores_each_session_minute_once(
    platform: Settings, broker: tuple[BrokerAccounts, BrokerHttp]
) -> None:
    accounts, http = broker
    clock = timebase.clock(at(MON, 10, 0, 30))
    inst = instrument("BHKITE", "990001", "99001")
    history = KiteHistory(lambda: kite_connect(accounts.kite_credentials, clock, http.url), retry=FAST)
    store = DynamoCandleRepository()
    repair = HistoryRepair(history, store, clock)
    # When a newly subscribed instrument is backfilled with two sessions
    report = repair.backfill(inst, 2)
    # Then the previous session and Monday up to the last closed minute are stored, from the broker's prices
    prev = repair.sessions(2)[0]
    want = [*range(at(prev, 9, 15), at(prev, 15, 30), MINUTE), *range(at(MON, 9, 15), at(MON, 10, 0), MINUTE)]
    stored = store.range("BHKITE", "1m", at(prev, 0, 0), at(MON, 23, 59), 2000)
    assert [c.start_ms for c in stored] == want
    assert report.missing == report.written == len(want) == 375 + 45
    assert all(c.source == BROKER_HISTORY_SOURCE and c.close_paise == paise(c.start_ms) for c in stored)
    assert all(c.volume == 500 + (c.start_ms // MINUTE) % 17 for c in stored)
    kite_calls = [r for r in http.tape.requests if r[0] == "kite"]
    assert len(kite_calls) == 2 and all(r[2]["path"].endswith("/990001/minute") for r in kite_calls)
    # When the backfill runs again, nothing is asked and nothing written
    again = repair.backfill(inst, 2)
    assert (again.missing, again.written, again.requests) == (0, 0, 0)
    assert len(http.tape.requests) == 2


def test_angel_gap_repair_after_an_outage_fills_only_the_missing_minutes_through_a_rate_limit(
    platform: Settings, broker: tuple[BrokerAccounts, BrokerHttp]
) -> None:
    accounts, http = broker
    clock = timebase.clock(at(TUE, 16, 0))
    inst = instrument("BHANGEL", "990002", "99002")
    store = DynamoCandleRepository()
    # Given Tuesday's live bars with the feed down 11:00-11:44, a demo bar in the gap, a quiet minute the
    # broker has no bar for, and the broker's gateway refusing the first request for its access rate
    gap = range(at(TUE, 11, 0), at(TUE, 11, 45), MINUTE)
    store.put_many(
        live_bar("BHANGEL", m) for m in range(at(TUE, 9, 15), at(TUE, 15, 30), MINUTE) if m not in gap
    )
    store.put_many([live_bar("BHANGEL", at(TUE, 11, 20), source=DEMO_SOURCE)])
    http.tape.quiet = {at(TUE, 11, 30)}
    http.tape.refuse_next = 1
    history = AngelHistory(lambda: angel_connect(accounts.angel_credentials, clock, http.url), retry=FAST)
    repair = HistoryRepair(history, store, clock)
    # When the day is repaired
    report = repair.repair(inst, at(TUE, 9, 15), at(TUE, 15, 30))
    # Then one span was asked for (after one refusal and a retry) and the gap filled from the broker
    assert report.spans == [(gap[0], gap[-1] + MINUTE)]
    assert report.requests == 2 and len(http.tape.refused) == 1
    body = http.tape.requests[-1][2]
    assert (body["interval"], body["symboltoken"], body["fromdate"][-5:], body["todate"][-5:]) == (
        "ONE_MINUTE", "99002", "11:00", "11:44",
    )  # fmt: skip
    assert (report.missing, report.written, report.still_missing) == (45, 44, 1)
    day = {c.start_ms: c for c in store.range("BHANGEL", "1m", at(TUE, 9, 15), at(TUE, 15, 29), 500)}
    assert len(day) == 375 - 1
    assert all(
        day[m].source == BROKER_HISTORY_SOURCE and day[m].close_paise == paise(m) for m in gap if m in day
    )
    assert day[at(TUE, 11, 20)].source == BROKER_HISTORY_SOURCE  # the demo bar was replaced, not merged
    assert {day[m].source for m in day if m not in gap} == {"live"}
    assert day[at(TUE, 10, 0)].close_paise == 99_900
    # When it runs again, only the quiet minute is asked for and nothing is written
    again = repair.repair(inst, at(TUE, 9, 15), at(TUE, 15, 30))
    assert (again.missing, again.written) == (1, 0)
    assert len(store.range("BHANGEL", "1m", at(TUE, 9, 15), at(TUE, 15, 29), 500)) == 375 - 1


def test_many_gaps_are_paced_within_three_requests_a_second_of_the_broker(
    platform: Settings, broker: tuple[BrokerAccounts, BrokerHttp]
) -> None:
    accounts, http = broker
    clock = timebase.clock(at(TUE, 16, 0))
    inst = instrument("BHPACE", "990003", "99003")
    store = DynamoCandleRepository()
    # Given eight gaps more than 15 minutes apart: eight requests
    gaps = {at(TUE, 9, 30) + i * 40 * MINUTE + k * MINUTE for i in range(8) for k in range(3)}
    store.put_many(
        live_bar("BHPACE", m) for m in range(at(TUE, 9, 15), at(TUE, 15, 30), MINUTE) if m not in gaps
    )
    history = KiteHistory(lambda: kite_connect(accounts.kite_credentials, clock, http.url), retry=FAST)
    began = time.monotonic()
    report = HistoryRepair(history, store, clock).repair(inst, at(TUE, 9, 15), at(TUE, 15, 30))
    # Then the broker (which refuses a 4th request inside a second) never had to refuse one
    assert len(report.spans) == 8 and report.requests == 8 and http.tape.refused == []
    assert report.written == 24
    assert time.monotonic() - began >= 2.0  # 8 requests at 3 a second


def test_cli_backfill_uses_the_broker_secret_and_a_second_run_writes_nothing(
    platform: Settings, broker: tuple[BrokerAccounts, BrokerHttp], monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts, http = broker
    # Given the admin's Kite credentials in the broker secret and an instrument the master knows
    sm = client("secretsmanager", platform.region)
    secret_id = f"mantra/{platform.stage}/broker"
    before = sm.get_secret_value(SecretId=secret_id)["SecretString"]
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(accounts.kite_credentials()))
    monkeypatch.setenv("MANTRA_KITE_API_URL", http.url)
    DynamoInstrumentRepository().put_many([instrument("BHCLI", "990004", "99004")])
    as_of = utc_from_ms(at(TUE, 16, 0)).isoformat()
    runner = CliRunner()
    try:
        # When two sessions are backfilled from the command line, twice
        args = ["history", "backfill", "BHCLI", "--days", "2", "--broker", "kite", "--as-of", as_of]
        first = runner.invoke(app, args)
        second = runner.invoke(app, args)
        unknown = runner.invoke(app, ["history", "backfill", "NOSUCH", "--broker", "kite"])
        no_broker = runner.invoke(app, ["history", "backfill", "BHCLI", "--broker", "simulated"])
    finally:
        sm.put_secret_value(SecretId=secret_id, SecretString=before)
    # Then Monday's and Tuesday's sessions are stored once, and the second run wrote nothing
    assert first.exit_code == 0, first.output
    out = _plain(first.output)
    assert "bars written 750" in out and "minutes missing before 750" in out
    stored = DynamoCandleRepository().range("BHCLI", "1m", at(MON, 9, 15), at(TUE, 15, 29), 1000)
    assert len(stored) == 750 and {c.source for c in stored} == {BROKER_HISTORY_SOURCE}
    assert second.exit_code == 0 and "bars written 0" in _plain(second.output)
    assert len([r for r in http.tape.requests if r[0] == "kite"]) == 2
    # and mistakes are named
    assert unknown.exit_code == 2 and "no instrument 'NOSUCH'" in unknown.output
    assert no_broker.exit_code == 2 and "--broker must be one of kite, angel" in no_broker.output


def test_history_shares_the_feeds_kite_session_because_a_request_token_works_once(
    platform: Settings, broker: tuple[BrokerAccounts, BrokerHttp]
) -> None:
    accounts, http = broker
    clock = timebase.clock(at(TUE, 16, 0))
    inst = instrument("BHSHARE", "990005", "99005")
    store = DynamoCandleRepository()
    # Given the feed's Kite provider logged in with today's request token
    feed = KiteProvider(accounts.kite_credentials, clock, api_url=http.url)
    feed.session()
    # When history makes a login of its own, Kite refuses the spent token; sharing the feed's session works
    alone = HistoryRepair(
        broker_history("kite", accounts.kite_credentials, clock, http.url, retry=FAST), store, clock
    )
    refused = alone.repair(inst, at(TUE, 9, 15), at(TUE, 9, 30))
    shared_history = broker_history("kite", accounts.kite_credentials, clock, http.url, FAST, feed.session)
    shared = HistoryRepair(shared_history, store, clock).repair(inst, at(TUE, 9, 15), at(TUE, 9, 30))
    assert refused.written == 0 and "needs a login" in refused.errors[0]
    assert shared.written == 15 and shared.errors == []
    assert len(accounts.called(KITE_SESSION)) == 2  # the feed's login and the refused one, nothing more
