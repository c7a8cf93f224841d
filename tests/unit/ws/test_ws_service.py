"""Sessions, fan-out and the sweep on fakes: token checks, subscriptions, 410 cleanup, cheap empty batches."""

from __future__ import annotations

import json

import pytest
import timebase
from mantra.clock import ManualClock
from mantra.domain import Candle, Notification
from mantra.errors import Unauthorized
from mantra.ws.models import WsConnection
from mantra.ws.service import WsCleanup, WsFanout, WsSessions
from test_ws_protocol import QUOTE
from ws_fakes import FakeConnections, FakeInstruments, FakeManagement, FakeTokens, FakeUsers, user


@pytest.fixture
def repo() -> FakeConnections:
    return FakeConnections()


@pytest.fixture
def sessions(repo: FakeConnections) -> WsSessions:
    return WsSessions(
        repo,
        FakeTokens({"good": "usr_pro", "orphan": "usr_deleted"}),
        FakeUsers(user()),
        FakeInstruments("SBIN", "RELIANCE", "INFY"),
        ManualClock(timebase.NOW_MS),
        lifetime_s=7200,
        max_topics=3,
    )


def reply(sessions: WsSessions, cid: str, frame: dict | str) -> dict:
    return json.loads(sessions.message(cid, frame if isinstance(frame, str) else json.dumps(frame)))


def test_connect_records_the_owner_and_a_two_hour_lifetime(sessions, repo):
    conn = sessions.connect("c1", "good")
    assert (conn.tenant_id, conn.user_id) == ("tnt_pro", "usr_pro")
    assert conn.expires_ms - conn.connected_ms == 7_200_000
    assert repo.get("c1") == conn


@pytest.mark.parametrize("token", [None, "", "forged", "orphan"])
def test_connect_without_a_valid_token_of_an_existing_user_is_refused(sessions, repo, token):
    with pytest.raises(Unauthorized):
        sessions.connect("c1", token)
    assert repo.items == {}


def test_subscribe_ping_unsubscribe_and_bad_frames_get_replies_not_disconnects(sessions, repo):
    sessions.connect("c1", "good")
    sub = {"action": "subscribe", "channel": "quotes", "symbols": ["sbin", "RELIANCE"]}
    assert reply(sessions, "c1", sub) == {
        "type": "subscribed",
        "channel": "quotes",
        "symbols": ["SBIN", "RELIANCE"],
        "tf": None,
    }
    assert repo.subscribers(["quotes#SBIN"]) == {"quotes#SBIN": frozenset({"c1"})}
    assert reply(sessions, "c1", {"action": "ping"}) == {"type": "pong"}
    assert reply(sessions, "c1", "{oops")["type"] == "error"
    unknown = reply(sessions, "c1", {"action": "subscribe", "channel": "quotes", "symbols": ["NOPE"]})
    assert unknown == {"type": "error", "message": "unknown symbol(s): NOPE"}
    assert (
        reply(sessions, "c1", {**sub, "action": "unsubscribe", "symbols": ["SBIN"]})["type"] == "unsubscribed"
    )
    assert repo.subscribers(["quotes#SBIN", "quotes#RELIANCE"]) == {"quotes#RELIANCE": frozenset({"c1"})}


def test_subscriptions_are_capped_per_connection(sessions):
    sessions.connect("c1", "good")
    ok = {"action": "subscribe", "channel": "candles", "symbols": ["SBIN", "INFY", "RELIANCE"], "tf": "1m"}
    assert reply(sessions, "c1", ok)["type"] == "subscribed"
    more = reply(sessions, "c1", {"action": "subscribe", "channel": "quotes", "symbols": ["SBIN"]})
    assert more["type"] == "error" and "at most 3" in more["message"]


def test_disconnect_forgets_the_connection_and_its_subscriptions(sessions, repo):
    sessions.connect("c1", "good")
    reply(sessions, "c1", {"action": "subscribe", "channel": "quotes", "symbols": ["SBIN"]})
    sessions.disconnect("c1")
    assert repo.items == {} and repo.members == {}


def _conn(cid: str, user_id: str = "usr_pro", topics: frozenset[str] = frozenset(), expires: int = 2**62):
    return WsConnection(
        connection_id=cid,
        tenant_id="tnt_pro",
        user_id=user_id,
        connected_ms=0,
        expires_ms=expires,
        topics=topics,
    )


def test_a_batch_nobody_follows_costs_one_lookup_and_sends_nothing(repo):
    mgmt = FakeManagement()
    report = WsFanout(repo, mgmt).push([QUOTE, QUOTE.model_copy(update={"symbol": "INFY"})])
    assert repo.lookups == [["quotes#SBIN", "quotes#INFY"]]
    assert report.frames == 0 and mgmt.sent == []


def test_only_the_newest_quote_of_a_symbol_in_a_batch_is_sent_to_each_subscriber(repo):
    for cid in ("c1", "c2"):
        repo.add(_conn(cid))
        repo.subscribe(cid, ["quotes#SBIN"])
    mgmt = FakeManagement(live={"c1", "c2"})
    newer = QUOTE.model_copy(update={"seq": 3, "ltp_paise": 81300})
    report = WsFanout(repo, mgmt).push([newer, QUOTE])
    assert report.sent == 2
    assert sorted(c for c, _ in mgmt.sent) == ["c1", "c2"]
    assert {f["data"]["ltp"] for _, f in mgmt.sent} == {"813.00"}


def test_candles_go_to_their_timeframe_and_notifications_to_their_owner_only(repo):
    repo.add(_conn("mine"))
    repo.add(_conn("theirs", user_id="usr_other"))
    repo.subscribe("mine", ["candles#SBIN#1m"])
    mgmt = FakeManagement(live={"mine", "theirs"})
    c1 = Candle(
        symbol="SBIN",
        timeframe="1m",
        start_ms=60_000,
        open_paise=1,
        high_paise=2,
        low_paise=1,
        close_paise=2,
        volume=5,
        ticks=2,
        first_tick_ms=60_001,
        last_tick_ms=60_002,
    )
    c5 = c1.model_copy(update={"timeframe": "5m"})
    note = Notification(
        notification_id="n1",
        tenant_id="tnt_pro",
        user_id="usr_pro",
        kind="alert.triggered",
        title="t",
        body="b",
        data={},
        read=False,
        created_ms=1,
    )
    WsFanout(repo, mgmt).push(candles=[c1, c5], notifications=[note])
    assert [(c, f["type"]) for c, f in mgmt.sent] == [("mine", "candle"), ("mine", "notification")]
    assert all(f.get("tf", "1m") == "1m" for _, f in mgmt.sent)


def test_a_410_removes_the_stale_connection_and_its_subscriptions(repo):
    repo.add(_conn("live"))
    repo.add(_conn("stale"))
    for cid in ("live", "stale"):
        repo.subscribe(cid, ["quotes#SBIN"])
    repo.members.setdefault("quotes#SBIN", set()).add("ghost")  # its item already removed by the TTL
    mgmt = FakeManagement(live={"live"})
    report = WsFanout(repo, mgmt).push([QUOTE])
    assert (report.sent, report.gone) == (1, 2)
    assert set(repo.items) == {"live"}
    assert repo.members == {"quotes#SBIN": {"live"}}


def test_other_send_failures_are_counted_and_keep_the_connection(repo):
    repo.add(_conn("flaky"))
    repo.subscribe("flaky", ["quotes#SBIN"])
    mgmt = FakeManagement(live={"flaky"})
    mgmt.broken.add("flaky")
    report = WsFanout(repo, mgmt).push([QUOTE])
    assert (report.failed, report.gone) == (1, 0) and "flaky" in repo.items


def test_the_sweep_closes_expired_forgets_unreachable_and_drops_orphan_memberships(repo):
    clock = ManualClock(now_ms=10_000)
    repo.add(_conn("old", expires=9_999, topics=frozenset({"quotes#SBIN"})))
    repo.add(_conn("dead", topics=frozenset({"quotes#SBIN"})))
    repo.add(_conn("fine", topics=frozenset({"quotes#SBIN"})))
    repo.members["quotes#SBIN"] = {"old", "dead", "fine", "ghost"}
    mgmt = FakeManagement(live={"old", "fine"})
    report = WsCleanup(repo, mgmt, clock).run()
    assert (report.connections, report.expired, report.unreachable, report.orphans) == (3, 1, 1, 1)
    assert mgmt.closed == ["old"]
    assert set(repo.items) == {"fine"} and repo.members == {"quotes#SBIN": {"fine"}}
