"""The broker adapters over real sockets: Angel One SmartAPI and Zerodha Kite Connect, their official SDKs talking
to loopback stand-ins (feed_servers.py) for login, profile and the tick websockets; the failover and the runner
on top, writing health rows to DynamoDB Local and ticks to kinesalite. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
import pytest
from feed_servers import (
    ANGEL_LOGIN,
    ANGEL_PROFILE,
    KITE_PROFILE,
    KITE_SESSION,
    AngelSmartStream,
    BrokerAccounts,
    BrokerHttp,
    KiteTickerServer,
    wait_for,
)
from helpers import stream_ticks
from mantra.clock import SystemClock
from mantra.domain import Instrument, Tick
from mantra.feed.base import NeedsLogin, ProviderState
from mantra.feed.failover import Backoff, FailoverFeed
from mantra.feed.providers.angel import AngelProvider
from mantra.feed.providers.kite import KiteProvider
from mantra.feed.runner import StreamingFeedRunner
from mantra.settings import Settings
from mantra.store.aws import KinesisTickPublisher
from mantra.store.repositories import DynamoFeedStatusRepository

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

# One NFO option (Angel exchange type 2) and one NSE equity, each with both brokers' own tokens (RELIANCE's:
# Angel 2885, Kite 738561): the two brokers number instruments differently
OPTION = Instrument(
    symbol="FEEDIT26N2424350CE", token="43650", exchange="NFO", name="NIFTY CE", instrument_type="CE",
    lot_size=65, underlying="NIFTY", expiry="2026-11-24", strike_paise=2_435_000,
    broker_tokens={"angel": "43650", "kite": "10408450"},
)  # fmt: skip
EQUITY = Instrument(
    symbol="FEEDITEQ", token="2885", exchange="NSE", name="EQ", instrument_type="EQ",
    broker_tokens={"angel": "2885", "kite": "738561"},
)  # fmt: skip
ANGEL_ONLY = Instrument(symbol="FEEDITANGEL", token="3045", exchange="NSE", name="EQ", instrument_type="EQ")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# --- no network but loopback -----------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection and name lookup off 127.0.0.1 (SmartConnect asks api.ipify.org on import)."""
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(address: Any) -> None:
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise ConnectionRefusedError(f"these tests reach only loopback, not {address[0]}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and (host.decode() if isinstance(host, bytes) else host) not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"these tests resolve only loopback, not {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --- the brokers -----------------------------------------------------------------------------------------
@pytest.fixture
def accounts() -> BrokerAccounts:
    return BrokerAccounts()


@pytest.fixture
def broker_http(accounts: BrokerAccounts) -> Iterator[BrokerHttp]:
    server = BrokerHttp(accounts)
    yield server
    server.close()


@pytest.fixture
def angel_ws(accounts: BrokerAccounts) -> Iterator[AngelSmartStream]:
    server = AngelSmartStream(accounts)
    yield server
    server.close()


@pytest.fixture
def kite_ws(accounts: BrokerAccounts) -> Iterator[KiteTickerServer]:
    server = KiteTickerServer(accounts)
    yield server
    server.close()


@pytest.fixture
def settings(broker_http: BrokerHttp, angel_ws: AngelSmartStream, kite_ws: KiteTickerServer) -> Settings:
    """The broker endpoints as the feed task reads them, pointed at the stand-ins."""
    return Settings(
        angel_api_url=broker_http.url,
        angel_ws_url=angel_ws.url,
        kite_api_url=broker_http.url,
        kite_ws_url=kite_ws.url,
    )


@pytest.fixture
def angel(accounts: BrokerAccounts, settings: Settings) -> Iterator[AngelProvider]:
    provider = AngelProvider(
        accounts.angel_credentials,
        SystemClock(),
        api_url=settings.angel_api_url,
        ws_url=settings.angel_ws_url,
        open_timeout_s=3,
    )
    yield provider
    provider.stop()


@pytest.fixture
def kite(accounts: BrokerAccounts, settings: Settings) -> Iterator[KiteProvider]:
    provider = KiteProvider(
        accounts.kite_credentials,
        SystemClock(),
        api_url=settings.kite_api_url,
        ws_url=settings.kite_ws_url,
        open_timeout_s=3,
    )
    yield provider
    provider.stop()


# --- helpers ---------------------------------------------------------------------------------------------
class Ticks:
    """A TickSink that keeps what it is given."""

    def __init__(self) -> None:
        self._ticks: list[Tick] = []
        self._lock = threading.Lock()

    def __call__(self, ticks: list[Tick]) -> None:
        with self._lock:
            self._ticks.extend(ticks)

    def of(self, symbol: str) -> list[Tick]:
        with self._lock:
            return [t for t in self._ticks if t.symbol == symbol]

    def __len__(self) -> int:
        with self._lock:
            return len(self._ticks)


@contextmanager
def supervised(
    feed: FailoverFeed, instruments: list[Instrument], sink: Ticks, every_s: float = 0.02
) -> Iterator[list[tuple[float, str]]]:
    """Start the feed and run its supervise loop as the runner does; yields the (time, states) it went through."""
    seen: list[tuple[float, str]] = []
    stop = threading.Event()
    feed.start(instruments, sink)

    def loop() -> None:
        while not stop.is_set():
            feed.supervise()
            summary = ",".join(f"{k}={v}" for k, v in feed.states().items())
            if not seen or seen[-1][1] != summary:
                seen.append((time.monotonic(), summary))
            stop.wait(every_s)

    thread = threading.Thread(target=loop, name="supervise", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=5)
        feed.stop()


def assert_rising_and_recent(ticks: list[Tick], started_ms: int) -> None:
    seqs = [t.seq for t in ticks]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seq must rise strictly per instrument"
    assert all(t.tick_id == f"{t.token}-{t.seq}" for t in ticks)
    now_ms = time.time_ns() // 1_000_000
    # exchange time is epoch ms UTC: within this test's lifetime (Kite sends whole seconds)
    assert all(started_ms - 1000 <= t.ts_ms <= now_ms for t in ticks)


# --- Angel One -------------------------------------------------------------------------------------------
def test_angel_logs_in_with_pin_and_totp_subscribes_snap_quote_and_maps_ticks_to_paise(
    angel: AngelProvider,
    accounts: BrokerAccounts,
    angel_ws: AngelSmartStream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the SDK's websocket heartbeat every 0.2 s instead of 10 s
    from mantra.feed.providers.angel import _socket_class

    monkeypatch.setattr(_socket_class(), "HEART_BEAT_INTERVAL", 0.2)
    started_ms = time.time_ns() // 1_000_000
    got = Ticks()

    # When the provider starts on an option and an equity
    angel.start([OPTION, EQUITY], got)
    wait_for(lambda: len(got.of(OPTION.symbol)) >= 5 and len(got.of(EQUITY.symbol)) >= 5)

    # Then it logged in once with client code, PIN and a current TOTP, and read the profile with the JWT
    ((_, _, login, headers),) = accounts.called(ANGEL_LOGIN)
    assert login["clientcode"] == accounts.angel_client_code and login["password"] == accounts.angel_pin
    assert headers["X-PrivateKey"] == accounts.angel_api_key and len(login["totp"]) == 6
    ((_, _, _, profile_headers),) = accounts.called(ANGEL_PROFILE)
    assert profile_headers["Authorization"] == "Bearer jwt-1"
    # And opened one websocket with the session in its headers, subscribing both tokens in SNAP_QUOTE
    (conn,) = angel_ws.connections
    assert conn.headers["authorization"] in ("jwt-1", "Bearer jwt-1")
    assert (conn.headers["x-api-key"], conn.headers["x-client-code"], conn.headers["x-feed-token"]) == (
        accounts.angel_api_key,
        accounts.angel_client_code,
        "feed-1",
    )
    (subscribe,) = [json.loads(m) for m in conn.messages if m != "ping"]
    assert subscribe["action"] == 1 and subscribe["params"]["mode"] == 3
    assert sorted((g["exchangeType"], g["tokens"]) for g in subscribe["params"]["tokenList"]) == [
        (1, ["2885"]),
        (2, ["43650"]),
    ]
    # And the ticks are ours: paise as sent, OI in contracts (650000 units / lot 65), epoch ms, rising seq
    option = got.of(OPTION.symbol)
    assert all(12_300 <= t.ltp_paise < 12_350 for t in option)
    assert all((t.bid_paise, t.ask_paise) == (t.ltp_paise - 5, t.ltp_paise + 5) for t in option)
    assert all(
        (t.oi, t.open_paise, t.prev_close_paise, t.last_qty) == (10_000, 12_000, 11_900, 65) for t in option
    )
    assert all(t.oi is None for t in got.of(EQUITY.symbol))  # OI only for derivatives
    assert_rising_and_recent(option, started_ms)
    assert_rising_and_recent(got.of(EQUITY.symbol), started_ms)
    # And the heartbeat went round: the server answered the SDK's pings
    wait_for(lambda: angel._sockets[0].wsapp.last_pong_tm > 0, timeout_s=2)
    assert angel.connected() and angel.streaming == 2


def test_angel_with_a_wrong_totp_secret_needs_a_person(
    accounts: BrokerAccounts, settings: Settings, angel_ws: AngelSmartStream
) -> None:
    # Given a broker secret whose TOTP secret is not the one the broker knows
    wrong = {**accounts.angel_credentials(), "angel_totp_secret": pyotp.random_base32()}
    provider = AngelProvider(
        lambda: wrong, SystemClock(), api_url=settings.angel_api_url, ws_url=angel_ws.url
    )
    # When it starts, Then the broker's AB1050 is NeedsLogin and no websocket is opened
    with pytest.raises(NeedsLogin, match="AB1050"):
        provider.start([OPTION], Ticks())
    assert angel_ws.connections == []


@pytest.mark.parametrize("status", [401, 403])
def test_angel_session_refused_by_the_websocket_is_replaced_by_a_fresh_login(
    angel: AngelProvider, accounts: BrokerAccounts, angel_ws: AngelSmartStream, status: int
) -> None:
    # Given Angel streaming through the failover
    angel_ws.expired_status = status
    feed = FailoverFeed([angel], SystemClock(), 30, lambda _: True, Backoff(0.1, 0.1), rng=random.Random(1))
    got = Ticks()
    with supervised(feed, [OPTION], got):
        wait_for(lambda: len(got) >= 3)
        # When the broker expires the session and cuts the connection
        accounts.expire_all()
        angel_ws.drop()
        # Then the reconnect is refused with HTTP 401/403, the provider logs in again and streams on the new JWT
        wait_for(lambda: len(accounts.called(ANGEL_LOGIN)) == 2 and angel_ws.live() == 1)
        before = len(got)
        wait_for(lambda: len(got) >= before + 3)
    assert angel_ws.refused == [status]
    assert [c.headers["x-feed-token"] for c in angel_ws.connections] == ["feed-1", "feed-2"]
    assert_rising_and_recent(got.of(OPTION.symbol), 0)


def test_angel_token_error_at_the_profile_check_is_unavailable_and_the_retry_logs_in_afresh(
    angel: AngelProvider, accounts: BrokerAccounts, broker_http: BrokerHttp, angel_ws: AngelSmartStream
) -> None:
    # Given the broker answering the first profile check with HTTP 401 and its token-error code AG8001
    broker_http.refuse_angel_profiles(1)
    feed = FailoverFeed([angel], SystemClock(), 30, lambda _: True, Backoff(0.1, 0.1), rng=random.Random(1))
    got = Ticks()
    # When the feed starts, Then that attempt is a plain failure (backoff), not a crash of the SDK's parsing
    feed.start([OPTION], got)
    (slot,) = feed.slots
    assert slot.state is ProviderState.BACKOFF and "ProviderUnavailable" in slot.error
    # And the next attempt logs in again and streams on the new session
    with supervised(feed, [OPTION], got):
        wait_for(lambda: len(got) >= 3)
    assert len(accounts.called(ANGEL_LOGIN)) == 2
    assert [c.headers["x-feed-token"] for c in angel_ws.connections] == ["feed-2"]


# Two more real-shaped NFO contracts (a NIFTY put and a BANKNIFTY future): Angel's token, Kite's own number
PUT = Instrument(
    symbol="FEEDIT26N2424350PE", token="43651", exchange="NFO", name="NIFTY PE", instrument_type="PE",
    lot_size=65, underlying="NIFTY", expiry="2026-11-24", strike_paise=2_435_000,
    broker_tokens={"angel": "43651", "kite": "10408706"},
)  # fmt: skip
FUTURE = Instrument(
    symbol="FEEDITBN26NOVFUT", token="52001", exchange="NFO", name="BANKNIFTY", instrument_type="FUT",
    lot_size=30, underlying="BANKNIFTY", expiry="2026-11-24", broker_tokens={"angel": "52001", "kite": "13312258"},
)  # fmt: skip


def test_angel_changes_the_subscription_on_the_open_socket_without_reconnecting(
    angel: AngelProvider, accounts: BrokerAccounts, angel_ws: AngelSmartStream
) -> None:
    # Given Angel streaming the option and the equity on one socket
    got = Ticks()
    angel.start([OPTION, EQUITY], got)
    wait_for(lambda: len(got.of(OPTION.symbol)) >= 2 and len(got.of(EQUITY.symbol)) >= 2)
    # When the subscription drops the option and takes the put
    angel.update([EQUITY, PUT])
    wait_for(lambda: len(got.of(PUT.symbol)) >= 3)
    # Then the same socket got one unsubscribe (action 0) and one subscribe (action 1), both SNAP_QUOTE
    (conn,) = angel_ws.connections
    first, unsubscribe, subscribe = conn.requests()
    assert (unsubscribe["action"], unsubscribe["params"]) == (
        0,
        {"mode": 3, "tokenList": [{"exchangeType": 2, "tokens": ["43650"]}]},
    )
    assert (subscribe["action"], subscribe["params"]) == (
        1,
        {"mode": 3, "tokenList": [{"exchangeType": 2, "tokens": ["43651"]}]},
    )
    assert all(len(r["correlationID"]) == 10 for r in (first, unsubscribe, subscribe))
    # And the connection was kept: no new handshake, no new login, the equity streamed throughout
    assert angel_ws.live() == 1 and len(accounts.called(ANGEL_LOGIN)) == 1 and angel.connected()
    assert conn.subscribed == {(1, "2885"): 3, (2, "43651"): 3}
    before = len(got.of(OPTION.symbol))
    time.sleep(0.2)
    assert len(got.of(OPTION.symbol)) == before  # the option stopped
    assert angel.streaming == 2
    assert_rising_and_recent(got.of(EQUITY.symbol), 0)


def test_kite_changes_the_subscription_on_the_open_ticker_with_subscribe_mode_and_unsubscribe(
    kite: KiteProvider, accounts: BrokerAccounts, kite_ws: KiteTickerServer
) -> None:
    # Given Kite streaming the option and the equity in full mode
    got = Ticks()
    kite.start([OPTION, EQUITY], got)
    wait_for(lambda: len(got.of(OPTION.symbol)) >= 2)
    # When the option goes and the put and the future come
    kite.update([EQUITY, PUT, FUTURE])
    wait_for(lambda: len(got.of(PUT.symbol)) >= 3 and len(got.of(FUTURE.symbol)) >= 3)
    # Then the open ticker was sent unsubscribe, subscribe and mode full for exactly those tokens
    (conn,) = kite_ws.connections
    assert conn.requests()[2:] == [
        {"a": "unsubscribe", "v": [10408450]},
        {"a": "subscribe", "v": [10408706, 13312258]},
        {"a": "mode", "v": ["full", [10408706, 13312258]]},
    ]
    # And nothing reconnected: one handshake, one session exchange, the equity never stopped
    assert kite_ws.live() == 1 and len(accounts.called(KITE_SESSION)) == 1 and kite.connected()
    assert conn.subscribed == {738561: "full", 10408706: "full", 13312258: "full"}
    assert kite.streaming == 3


@pytest.mark.parametrize("name", ["angel", "kite"])
def test_a_full_connection_overflows_to_a_new_one_and_an_emptied_one_closes(
    name: str, request: pytest.FixtureRequest, accounts: BrokerAccounts, settings: Settings
) -> None:
    # Given a provider whose connections hold two instruments (the brokers' 1000 / 3000, made small)
    server = request.getfixturevalue(f"{name}_ws")
    creds = accounts.angel_credentials if name == "angel" else accounts.kite_credentials
    cls = AngelProvider if name == "angel" else KiteProvider
    api = settings.angel_api_url if name == "angel" else settings.kite_api_url
    provider = cls(creds, SystemClock(), api_url=api, ws_url=server.url, open_timeout_s=3, per_connection=2)
    got = Ticks()
    try:
        provider.start([OPTION, EQUITY], got)
        wait_for(lambda: len(got.of(EQUITY.symbol)) >= 2)
        (first,) = server.connections
        sent_before = len(first.messages)
        # When a third instrument comes, Then a second connection opens with it alone; the first is untouched
        provider.update([OPTION, EQUITY, PUT])
        wait_for(lambda: len(got.of(PUT.symbol)) >= 2)
        assert server.live() == 2 and len(server.connections) == 2
        assert len([m for m in first.messages[sent_before:] if m != "ping"]) == 0
        assert set(server.connections[1].subscribed) == ({(2, "43651")} if name == "angel" else {10408706})
        # When the first connection's two go, Then it is closed and the second streams on
        provider.update([PUT, FUTURE])
        wait_for(lambda: server.live() == 1 and len(got.of(FUTURE.symbol)) >= 2)
        assert len(server.connections) == 2 and provider.connected() and provider.streaming == 2
        keys = set(server.connections[1].subscribed)
        assert keys == ({(2, "43651"), (2, "52001")} if name == "angel" else {10408706, 13312258})
    finally:
        provider.stop()


def test_a_change_that_cannot_be_sent_drops_the_sockets_so_the_failover_reconnects_whole(
    angel: AngelProvider, angel_ws: AngelSmartStream
) -> None:
    # Given Angel streaming, and then the network cutting its socket
    got = Ticks()
    angel.start([OPTION, EQUITY], got)
    wait_for(lambda: len(got.of(EQUITY.symbol)) >= 2)
    angel_ws.drop()
    wait_for(lambda: not angel.connected())
    # When a change is applied, Then it fails loudly and leaves nothing half-subscribed behind
    with pytest.raises(Exception, match=r"closed|Connection"):
        angel.update([EQUITY, PUT])
    assert angel._sockets == [] and angel.streaming == 0 and not angel.connected()


class _Published:
    """The runner's TickPublisher and FeedStatusRepository, kept in memory (this test is about the sockets)."""

    def __init__(self) -> None:
        self.ticks: list[Tick] = []

    def publish(self, ticks: Any) -> int:
        self.ticks.extend(ticks)
        return len(ticks)

    def heartbeat(self, status: Any) -> None:
        pass

    def of(self, symbol: str) -> list[Tick]:
        return [t for t in list(self.ticks) if t.symbol == symbol]


@pytest.mark.parametrize("name", ["angel", "kite"])
def test_the_runner_applies_a_new_subscription_on_the_open_socket(
    name: str, request: pytest.FixtureRequest, accounts: BrokerAccounts
) -> None:
    # Given the feed task's runner streaming through the failover on one broker
    provider = request.getfixturevalue(name)
    server = request.getfixturevalue(f"{name}_ws")
    feed = FailoverFeed(
        [provider], SystemClock(), 30, lambda _: True, Backoff(0.1, 0.1), rng=random.Random(1)
    )
    wanted = [[OPTION, EQUITY]]
    out = _Published()
    runner = StreamingFeedRunner(
        feed,
        out,
        out,
        SystemClock(),
        lambda: wanted[0],
        flush_ms=20,
        refresh_s=0,  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=runner.run, kwargs={"supervise_s": 0.05}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(out.of(OPTION.symbol)) >= 2)
        # When the subscription changes (an option chain rolls: the call goes, the put comes)
        wanted[0] = [EQUITY, PUT]
        wait_for(lambda: len(out.of(PUT.symbol)) >= 3)
        # Then it was applied on the open socket: one connection, one login, the equity streamed throughout
        assert len(server.connections) == 1 and server.live() == 1
        login = ANGEL_LOGIN if name == "angel" else KITE_SESSION
        assert len(accounts.called(login)) == 1
        assert [i.symbol for i in runner.instruments] == [EQUITY.symbol, PUT.symbol]
        # and the runner keeps each symbol's last price (where option bands are centred): the broker's own
        assert server.ltp_base <= (runner.prices.get(PUT.symbol) or 0) < server.ltp_base + 50
    finally:
        runner.stop()
        thread.join(timeout=10)


# --- Kite Connect ----------------------------------------------------------------------------------------
def test_kite_exchanges_the_request_token_subscribes_full_mode_and_maps_ticks_to_paise(
    kite: KiteProvider, accounts: BrokerAccounts, kite_ws: KiteTickerServer
) -> None:
    started_ms = time.time_ns() // 1_000_000
    got = Ticks()

    # When the provider starts with a request token in the broker secret
    kite.start([OPTION, EQUITY, ANGEL_ONLY], got)
    wait_for(lambda: len(got.of(OPTION.symbol)) >= 5 and len(got.of(EQUITY.symbol)) >= 5)

    # Then it exchanged the token with the SDK's checksum and checked the profile with the new access token
    ((_, _, session, _),) = accounts.called(KITE_SESSION)
    assert session["request_token"] == accounts.kite_request_token and len(session["checksum"]) == 64
    ((_, _, _, headers),) = accounts.called(KITE_PROFILE)
    assert headers["Authorization"] == f"token {accounts.kite_api_key}:access-1"
    # And opened one websocket authenticated in the query string, subscribing both tokens in full mode
    (conn,) = kite_ws.connections
    assert "api_key=kite-key" in conn.path and "access_token=access-1" in conn.path
    messages = [json.loads(m) for m in conn.messages]
    # (Kite's own tokens only: an instrument with only Angel's number is not sent to Kite)
    assert {"a": "subscribe", "v": [10408450, 738561]} in messages
    assert {"a": "mode", "v": ["full", [10408450, 738561]]} in messages
    assert kite_ws.modes == {10408450: "full", 738561: "full"}
    # And rupee floats came back as exact paise, OI in contracts (130000 / 65), exchange seconds as epoch ms
    option = got.of(OPTION.symbol)
    assert all(22_300 <= t.ltp_paise < 22_350 and t.ltp_paise * 1.0 == round(t.ltp_paise) for t in option)
    assert all((t.bid_paise, t.ask_paise, t.oi) == (22_295, 22_305, 2_000) for t in option)
    assert all((t.open_paise, t.prev_close_paise) == (22_000, 21_900) and t.ts_ms % 1000 == 0 for t in option)
    assert_rising_and_recent(option, started_ms)
    assert kite.connected() and kite.streaming == 2


def test_kite_with_an_expired_access_token_needs_login_and_the_feed_says_so(
    accounts: BrokerAccounts, settings: Settings, kite_ws: KiteTickerServer
) -> None:
    # Given a broker secret holding yesterday's access token
    stale = {"kite_api_key": accounts.kite_api_key, "kite_access_token": "access-yesterday"}
    provider = KiteProvider(lambda: stale, SystemClock(), api_url=settings.kite_api_url, ws_url=kite_ws.url)
    feed = FailoverFeed([provider], SystemClock(), 30, lambda _: True, login_retry_s=300)
    # When the feed starts, Then the profile call's 403 TokenException is NEEDS_LOGIN, no websocket opened
    feed.start([OPTION], Ticks())
    (slot,) = feed.slots
    assert slot.state is ProviderState.NEEDS_LOGIN and "expired or invalid" in slot.error
    assert len(accounts.called(KITE_PROFILE)) == 1 and kite_ws.connections == []
    feed.stop()


def test_kite_token_rejected_by_the_ticker_rereads_the_secret_and_needs_login(
    kite: KiteProvider, accounts: BrokerAccounts, kite_ws: KiteTickerServer
) -> None:
    # Given Kite streaming through the failover on a token made from today's (single-use) request token
    feed = FailoverFeed(
        [kite], SystemClock(), 30, lambda _: True, Backoff(0.1, 0.1), login_retry_s=300, rng=random.Random(1)
    )
    got = Ticks()
    with supervised(feed, [OPTION], got) as seen:
        wait_for(lambda: len(got) >= 3)
        # When Kite expires the access token and cuts the connection
        accounts.expire_all()
        kite_ws.drop()
        # Then the reconnect is refused with 403, and the provider goes back to the secret: NEEDS_LOGIN
        wait_for(lambda: feed.slots[0].state is ProviderState.NEEDS_LOGIN)
    assert 403 in kite_ws.refused
    assert len(accounts.called(KITE_SESSION)) == 2  # the request token was tried again, and refused
    assert any("kite=backoff" in s for _, s in seen)


# --- reconnects and failover -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["angel", "kite"])
def test_a_dropped_connection_reconnects_after_a_backoff_on_the_same_session(
    name: str, request: pytest.FixtureRequest, accounts: BrokerAccounts
) -> None:
    # Given one provider streaming through the failover, with a 0.4 s backoff step (0.2-0.4 s with jitter)
    provider = request.getfixturevalue(name)
    server = request.getfixturevalue(f"{name}_ws")
    feed = FailoverFeed(
        [provider], SystemClock(), 30, lambda _: True, Backoff(0.4, 0.4), rng=random.Random(3)
    )
    got = Ticks()
    with supervised(feed, [OPTION], got) as seen:
        wait_for(lambda: len(got) >= 3)
        # When the network cuts the connection
        dropped = time.monotonic()
        server.drop()
        # Then the feed backs off, reconnects and the ticks flow again
        wait_for(lambda: len(server.connections) == 2 and server.live() == 1)
        reconnected = time.monotonic()
        before = len(got)
        wait_for(lambda: len(got) >= before + 3)
    states = [s for _, s in seen]
    assert states[:3] == [f"{name}=streaming", f"{name}=backoff", f"{name}=streaming"], states
    assert reconnected - dropped >= 0.2  # not before the backoff's fixed half
    assert len(accounts.called(ANGEL_LOGIN if name == "angel" else KITE_SESSION)) == 1  # same session
    assert feed.slots[0].failures == 0  # reset by the first tick after the reconnect
    assert_rising_and_recent(got.of(OPTION.symbol), 0)


def test_a_silent_angel_fails_over_to_kite_with_health_in_dynamodb_and_ticks_in_kinesis(
    platform: Settings,
    angel: AngelProvider,
    kite: KiteProvider,
    angel_ws: AngelSmartStream,
    kite_ws: KiteTickerServer,
) -> None:
    # Given the runner on angel then kite, failing over after 0.6 s without a tick, Angel's retry far away
    feed = FailoverFeed(
        [angel, kite], SystemClock(), 0.6, lambda _: True, Backoff(20, 20), rng=random.Random(1)
    )
    status = DynamoFeedStatusRepository()
    runner = StreamingFeedRunner(
        feed, KinesisTickPublisher(platform), status, SystemClock(), lambda: [OPTION], flush_ms=50, batch=100
    )
    thread = threading.Thread(target=runner.run, kwargs={"supervise_s": 0.05}, daemon=True)
    thread.start()
    try:
        # When Angel streams, Then the health rows say so (one beat writes the three rows in turn)
        wait_for(
            lambda: (
                runner.published > 0
                and _row(status, "primary", "angel", "streaming")
                and _row(status, "primary:angel", "angel", "streaming")
                and _row(status, "primary:kite", "kite", "idle")
            )
        )
        # When Angel goes silent (connected, no ticks)
        angel_ws.ticking.clear()
        # Then the feed fails over to Kite, and the rows show Kite streaming and Angel backing off
        wait_for(
            lambda: (
                _row(status, "primary", "kite", "streaming")
                and _row(status, "primary:kite", "kite", "streaming")
                and _row(status, "primary:angel", "angel", "backoff")
            ),
            timeout_s=5,
        )
        assert "stale" in feed.slots[0].error
        published = runner.published
        wait_for(lambda: runner.published > published)
    finally:
        runner.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    final = status.get("primary")
    assert final is not None and final.state == "stopped" and final.ticks_published == runner.published
    assert angel_ws.live() == 0 and kite_ws.live() == 0  # both connections closed on stop

    # And every published tick is in the Kinesis stream: Angel's prices, then Kite's, seq rising across both
    ticks = stream_ticks(platform, OPTION.symbol)
    assert len(ticks) == runner.published
    prices = [t.ltp_paise for t in ticks]
    first_kite = next(i for i, p in enumerate(prices) if p >= 22_300)
    assert first_kite > 0 and all(p < 12_350 for p in prices[:first_kite])
    assert all(p >= 22_300 for p in prices[first_kite:])
    seqs = [t.seq for t in ticks]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def _row(status: DynamoFeedStatusRepository, feed_id: str, provider: str, state: str) -> bool:
    row = status.get(feed_id)
    return row is not None and (row.provider, row.state) == (provider, state)
