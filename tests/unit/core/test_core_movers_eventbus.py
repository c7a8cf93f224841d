"""Market movers scan (idempotent per schedule) and the outbox relay."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from core_fakes import (
    SESSION_10AM,
    InMemoryOutbox,
    InMemoryOutboxMarks,
    InMemoryQuotes,
    RecordingEventPublisher,
)
from mantra.clock import ManualClock
from mantra.domain import Quote
from mantra.eventbus import OutboxEvent, OutboxFastPath, OutboxRelay
from mantra.market.movers import SIGNAL_DETECTED, MoversScan, change_bps
from pydantic import ValidationError

AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 09:30 IST


def _quote(symbol: str, ltp: int, prev_close: int) -> Quote:
    return Quote(
        symbol=symbol,
        ltp_paise=ltp,
        open_paise=prev_close,
        high_paise=ltp,
        low_paise=ltp,
        prev_close_paise=prev_close,
        bid_paise=None,
        ask_paise=None,
        volume=1,
        tick_ts_ms=1,
        tick_id="t",
        seq=1,
        session_date="2026-11-23",
    )


@pytest.mark.parametrize(
    ("ltp", "prev", "bps"), [(10_200, 10_000, 200), (9_800, 10_000, -200), (10_000, 10_000, 0), (5, 0, 0)]
)
def test_change_bps_is_the_move_from_the_previous_close(ltp, prev, bps) -> None:
    assert change_bps(ltp, prev) == bps


def test_movers_scan_reports_moves_past_the_threshold_in_either_direction() -> None:
    # Given one gainer (+2.5 %), one loser (-3 %) and one quiet stock (+1 %)
    quotes = InMemoryQuotes(
        [_quote("UP", 102_500, 100_000), _quote("DOWN", 97_000, 100_000), _quote("FLAT", 101_000, 100_000)]
    )
    outbox = InMemoryOutbox()
    # When the 2 % scan runs
    result = MoversScan(quotes, outbox, threshold_bps=200).run(AT)
    # Then the gainer and the loser are hits, each with a signal event in the outbox
    assert {h.symbol: (h.price, h.change_bps) for h in result.hits} == {
        "UP": ("1025.00", 250),
        "DOWN": ("970.00", -300),
    }
    assert (result.scanned, result.new_events, result.scan_id) == (3, 2, "movers-200bps")
    detail_types = {v[0] for v in outbox.items.values()}
    assert detail_types == {SIGNAL_DETECTED}
    details = sorted(v[1]["symbol"] for v in outbox.items.values())
    assert details == ["DOWN", "UP"]
    assert all(v[2] == int(AT.timestamp() * 1000) for v in outbox.items.values())


def test_a_retried_schedule_invocation_announces_each_hit_once() -> None:
    quotes, outbox = InMemoryQuotes([_quote("UP", 110_000, 100_000)]), InMemoryOutbox()
    scan = MoversScan(quotes, outbox)
    first, retry = scan.run(AT), scan.run(AT)
    assert (first.new_events, retry.new_events, len(outbox.items)) == (1, 0, 1)
    # a later schedule is a new signal
    assert scan.run(AT.replace(minute=5)).new_events == 1


def test_a_fall_just_short_of_the_threshold_is_not_a_mover_just_like_the_same_rise() -> None:
    quotes = InMemoryQuotes([_quote("DIP", 98_005, 100_000), _quote("POP", 101_995, 100_000)])
    result = MoversScan(quotes, InMemoryOutbox(), threshold_bps=200).run(AT)
    assert result.hits == []


# --- outbox relay -------------------------------------------------------------------------------------------


def test_outbox_event_decodes_a_json_string_detail() -> None:
    e = OutboxEvent(event_id="trg_1", detail_type="alert.triggered", detail=json.dumps({"symbol": "TCS"}))
    assert e.detail == {"symbol": "TCS"}
    assert OutboxEvent(event_id="x", detail_type="y", detail={"a": 1}).detail == {"a": 1}


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": "", "detail_type": "t", "detail": {}},
        {"event_id": "e", "detail_type": "t", "detail": "[1, 2]"},
    ],
)
def test_outbox_event_refuses_an_empty_id_or_a_detail_that_is_not_an_object(bad) -> None:
    with pytest.raises(ValidationError):
        OutboxEvent(**bad)


def _events(n: int, detail_type: str = "signal.detected") -> list[OutboxEvent]:
    return [OutboxEvent(event_id=f"e{i}", detail_type=detail_type, detail={"i": i}) for i in range(n)]


def test_relay_publishes_every_event_with_its_id_type_and_detail_in_one_call() -> None:
    publisher = RecordingEventPublisher()
    assert OutboxRelay(publisher, InMemoryOutboxMarks(), ManualClock(SESSION_10AM)).relay(_events(3)) == []
    assert publisher.calls == [[(f"e{i}", "signal.detected", {"i": i}) for i in range(3)]]


def test_relay_returns_what_the_bus_refused_so_only_those_records_are_retried() -> None:
    publisher = RecordingEventPublisher(refuse={"e1"})
    assert OutboxRelay(publisher, InMemoryOutboxMarks(), ManualClock(SESSION_10AM)).relay(_events(3)) == [
        "e1"
    ]


def test_relay_skips_what_its_writer_already_published() -> None:
    # Given e0 and e2 were published by their writer right after its commit (and marked)
    marks = InMemoryOutboxMarks()
    marks.mark_published(["e0", "e2"], 1)
    publisher = RecordingEventPublisher()
    # When their rows come through the stream
    OutboxRelay(publisher, marks, ManualClock(SESSION_10AM)).relay(_events(3))
    # Then only e1 goes on the bus; and a batch of only published rows makes no call at all
    assert [[e[0] for e in call] for call in publisher.calls] == [["e1"]]
    OutboxRelay(publisher, marks, ManualClock(SESSION_10AM)).relay([_events(1)[0]])
    assert len(publisher.calls) == 1


def test_a_redelivered_stream_record_is_relayed_once() -> None:
    # Given a batch the relay published, whose neighbour failed, so the poller delivers it again from there
    publisher, marks = RecordingEventPublisher(refuse={"e1"}), InMemoryOutboxMarks()
    relay = OutboxRelay(publisher, marks, ManualClock(SESSION_10AM))
    assert relay.relay(_events(3)) == ["e1"]
    # When the same records arrive again
    publisher.refuse = set()
    relay.relay(_events(3))
    # Then only the refused one goes out the second time, and what went out is marked with the relay's clock
    assert [[e[0] for e in call] for call in publisher.calls] == [["e0", "e1", "e2"], ["e1"]]
    assert marks.marks == {"e0": SESSION_10AM, "e1": SESSION_10AM, "e2": SESSION_10AM}


def test_fast_path_publishes_at_once_and_marks_only_what_the_bus_accepted() -> None:
    publisher, marks = RecordingEventPublisher(refuse={"e1"}), InMemoryOutboxMarks()
    assert OutboxFastPath(publisher, marks).publish(_events(3), at_ms=42) == 2
    assert marks.marks == {"e0": 42, "e2": 42}  # e1 is left to the relay
    assert OutboxRelay(RecordingEventPublisher(), marks, ManualClock(SESSION_10AM)).relay(_events(3)) == []


@pytest.mark.parametrize(
    ("publisher", "marks"),
    [
        (RecordingEventPublisher(down=True), InMemoryOutboxMarks()),
        (RecordingEventPublisher(), InMemoryOutboxMarks(fail=True)),
    ],
    ids=["bus down", "marking fails"],
)
def test_fast_path_never_raises_and_leaves_the_rows_to_the_relay(publisher, marks) -> None:
    # the commit already happened: a failed fast path must not fail the writer, and nothing may be lost
    assert OutboxFastPath(publisher, marks).publish(_events(2), at_ms=1) == 0
    relay_bus = RecordingEventPublisher()
    OutboxRelay(relay_bus, marks, ManualClock(SESSION_10AM)).relay(_events(2))
    assert [e[0] for e in relay_bus.calls[0]] == ["e0", "e1"]
