"""Zerodha Kite Connect: KiteTicker (Twisted/Autobahn) in full mode. At most 3000 instruments per connection
and 3 connections per API key. A subscription change is sent on the open tickers (``unsubscribe``, ``subscribe``
+ ``set_mode`` full), planned by ``mantra.feed.connections``; a ticker is opened only when the open ones are full.

Access tokens expire every morning and making one needs a person: the Kite login in a browser redirects with a
``request_token``, which an admin stores as ``kite_request_token`` in the ``mantra/<stage>/broker`` secret (or
stores the resulting ``kite_access_token``). Until then this provider is ``NeedsLogin`` and the feed falls back;
the secret is re-read at every attempt, so the stored token is picked up without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mantra.clock import Clock
from mantra.domain import Instrument, Tick
from mantra.feed.base import NeedsLogin, ProviderUnavailable, Stamper, TickSink, rupees_to_paise
from mantra.feed.connections import plan_connections
from mantra.feed.providers.common import oi_contracts, silence_sdk_logs
from mantra.feed.subscription import shard

log = logging.getLogger(__name__)

PER_CONNECTION, MAX_CONNECTIONS = 3000, 3
_REACTOR_LOCK = threading.Lock()


def to_tick(d: Mapping[str, Any], inst: Instrument, stamper: Stamper) -> Tick | None:
    """A KiteTicker tick dict -> Tick. Kite gives rupees as floats and naive local datetimes made with
    ``datetime.fromtimestamp``; ``.timestamp()`` inverts that exactly, giving epoch seconds UTC."""
    ltp = rupees_to_paise(d.get("last_price") or 0)
    when = d.get("exchange_timestamp") or d.get("last_trade_time")
    if ltp <= 0 or when is None:
        return None
    ohlc = d.get("ohlc") or {}
    depth = d.get("depth") or {}
    buy, sell = depth.get("buy") or [], depth.get("sell") or []
    bid = rupees_to_paise(buy[0]["price"]) if buy and buy[0]["price"] > 0 else None
    ask = rupees_to_paise(sell[0]["price"]) if sell and sell[0]["price"] > 0 else None
    tick_id, seq = stamper.next(inst.token)
    return Tick(
        tick_id=tick_id,
        seq=seq,
        symbol=inst.symbol,
        token=inst.token,
        ts_ms=int(when.timestamp() * 1000),
        ltp_paise=ltp,
        last_qty=max(0, int(d.get("last_traded_quantity") or 0)),
        volume=max(0, int(d.get("volume_traded") or 0)),
        bid_paise=bid,
        ask_paise=ask,
        open_paise=rupees_to_paise(ohlc["open"]) if ohlc.get("open") else None,
        prev_close_paise=rupees_to_paise(ohlc["close"]) if ohlc.get("close") else None,
        oi=oi_contracts(d.get("oi"), inst),
    )


def _reactor() -> Any:
    """Twisted's reactor runs once per process, in a daemon thread; connections are made on it."""
    from twisted.internet import reactor

    with _REACTOR_LOCK:
        if not reactor.running:
            threading.Thread(
                target=lambda: reactor.run(installSignalHandlers=False),  # type: ignore[call-arg,misc]
                name="kite-reactor",
                daemon=True,
            ).start()
            for _ in range(100):
                if reactor.running:
                    break
                threading.Event().wait(0.02)
    return reactor


class KiteProvider:
    name = "kite"

    def __init__(
        self,
        credentials: Callable[[], Mapping[str, Any]],
        clock: Clock,
        api_url: str = "",
        ws_url: str = "",
        open_timeout_s: float = 10.0,
        per_connection: int = PER_CONNECTION,
    ) -> None:
        self._credentials, self._clock = credentials, clock
        self._api_url, self._ws_url, self._open_timeout = api_url, ws_url, open_timeout_s
        self.per_connection, self.max_connections = per_connection, MAX_CONNECTIONS
        self._stamper = Stamper(clock)
        self._access: tuple[str, str] | None = None  # (api_key, access_token)
        self._login_lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._tickers: list[Any] = []
        self._tokens: list[tuple[int, ...]] = []  # each ticker's instrument tokens
        self._by_token: dict[int, Instrument] = {}
        self._sink: TickSink | None = None
        self.streaming = 0
        silence_sdk_logs()

    def login(self) -> tuple[str, str]:
        import requests
        from kiteconnect import KiteConnect
        from kiteconnect import exceptions as kex

        creds = self._credentials()
        api_key = creds.get("kite_api_key")
        if not api_key:
            raise NeedsLogin("the broker secret lacks kite_api_key")
        kite = KiteConnect(api_key=api_key, root=self._api_url or None)
        try:
            token = creds.get("kite_access_token")
            if not token and creds.get("kite_request_token") and creds.get("kite_api_secret"):
                token = kite.generate_session(creds["kite_request_token"], creds["kite_api_secret"])[
                    "access_token"
                ]
            if not token:
                raise NeedsLogin("Kite needs today's login: store kite_request_token from the login redirect")
            kite.set_access_token(token)
            kite.profile()  # a stale token fails here, before any websocket is opened
        except (kex.TokenException, kex.PermissionException) as exc:
            raise NeedsLogin("the Kite access token is expired or invalid; log in again") from exc
        except (kex.KiteException, requests.RequestException) as exc:
            raise ProviderUnavailable(f"Kite login failed: {type(exc).__name__}") from exc
        return str(api_key), str(token)

    def session(self) -> tuple[str, str]:
        """(api_key, access_token) of this provider's login, logging in if it has none: a request token is
        single-use, so broker history shares the feed's session instead of making its own."""
        with self._login_lock:  # the feed and its history thread may ask at once: one login, not two
            if self._access is None:
                self._access = self.login()
            return self._access

    @property
    def capacity(self) -> int:
        return self.per_connection * self.max_connections

    @staticmethod
    def _wanted(instruments: Sequence[Instrument]) -> dict[int, Instrument]:
        """Only instruments with Kite's own (integer) instrument token: never another broker's number."""
        wanted = {int(t): i for i in instruments if (t := i.own_token("kite") or "").isdigit()}
        if len(wanted) < len(instruments):
            log.warning(
                "%d instruments have no Kite instrument token in the master; not subscribed on Kite",
                len(instruments) - len(wanted),
            )
        return wanted

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        self._sink = sink
        self.session()
        wanted = self._wanted(instruments)
        self._by_token = wanted
        self._tickers, self._tokens = [], []
        try:
            for part in shard(list(wanted.values()), self.per_connection, self.max_connections) or [[]]:
                self._tickers.append(self._open(part, sink))
                self._tokens.append(tuple(int(i.own_token("kite") or 0) for i in part))
        except Exception:
            self.stop()
            raise
        self.streaming = len(wanted)

    def _open(self, part: list[Instrument], sink: TickSink) -> Any:
        from kiteconnect import KiteTicker

        assert self._access is not None
        api_key, token = self._access
        ticker = KiteTicker(api_key, token, root=self._ws_url or None, reconnect=False)
        ticker.closed, ticker.close_code, ticker.close_reason = False, None, ""
        opened = threading.Event()
        tokens = [int(i.own_token("kite") or 0) for i in part]

        def on_connect(ws: Any, _response: Any) -> None:
            if tokens:
                ws.subscribe(tokens)
                ws.set_mode(ws.MODE_FULL, tokens)
            opened.set()

        def on_ticks(_ws: Any, ticks: list[dict[str, Any]]) -> None:
            out = []
            for d in ticks:
                inst = self._by_token.get(int(d.get("instrument_token", -1)))
                t = to_tick(d, inst, self._stamper) if inst else None
                if t is not None:
                    out.append(t)
            if out:
                sink(out)

        def on_close(_ws: Any, code: Any, reason: Any) -> None:
            ticker.closed, ticker.close_code, ticker.close_reason = True, code, str(reason or "")
            opened.set()

        ticker.on_connect, ticker.on_ticks, ticker.on_close = on_connect, on_ticks, on_close
        ticker.on_error = on_close
        ticker.on_noreconnect = lambda _ws: on_close(_ws, None, None)
        _reactor().callFromThread(ticker.connect)
        opened.wait(self._open_timeout)
        if not opened.is_set() or ticker.closed:
            _reactor().callFromThread(ticker.close)
            # autobahn reports a refused handshake as close code 1006 with the HTTP status in the reason
            if ticker.close_code == 403 or "upgrade failed (403" in ticker.close_reason:
                self._access = None  # rejected token: read the secret again next time
            raise ProviderUnavailable(f"KiteTicker did not open (code {ticker.close_code})")
        return ticker

    def update(self, instruments: Sequence[Instrument]) -> None:
        """Change the subscription on the open tickers: ``unsubscribe`` what went, ``subscribe`` + ``set_mode``
        (full) what came, on the first ticker with room; a new ticker only when the open ones are full."""
        if self._sink is None or not self._tickers:
            return
        with self._update_lock:
            wanted = self._wanted(instruments)
            plan = plan_connections(self._tokens, list(wanted), self.per_connection, self.max_connections)
            if not plan.changes:
                return
            self._by_token = {**self._by_token, **wanted}  # ticks of new tokens map from their first packet
            opened: list[Any] = []
            try:
                reactor = _reactor()
                for n, tokens in plan.unsubscribe.items():
                    reactor.callFromThread(self._tickers[n].unsubscribe, list(tokens))
                for n, tokens in plan.subscribe.items():
                    reactor.callFromThread(self._subscribe_full, self._tickers[n], list(tokens))
                for tokens in plan.open:
                    opened.append(self._open([wanted[t] for t in tokens], self._sink))
            except Exception:
                self._tickers.extend(opened)
                self.stop()  # half applied: drop it all, so the failover reconnects with the whole subscription
                raise
            for n in sorted(plan.close, reverse=True):
                self._close(self._tickers.pop(n))
            self._tickers.extend(opened)
            self._tokens = list(plan.after)
            self._by_token = wanted
            self.streaming = len(wanted)
            log.info(
                "kite: subscription changed in place (%d unsubscribes, %d subscribes, %d opened, %d closed)",
                sum(map(len, plan.unsubscribe.values())), sum(map(len, plan.subscribe.values())),
                len(plan.open), len(plan.close),
            )  # fmt: skip

    @staticmethod
    def _subscribe_full(ticker: Any, tokens: list[int]) -> None:
        ticker.subscribe(tokens)
        ticker.set_mode(ticker.MODE_FULL, tokens)

    @staticmethod
    def _close(ticker: Any) -> None:
        ticker.closed = True
        try:
            _reactor().callFromThread(ticker.close)
        except Exception as exc:
            log.debug("closing a KiteTicker: %s", exc)

    def stop(self) -> None:
        for ticker in self._tickers:
            self._close(ticker)
        self._tickers, self._tokens = [], []
        self.streaming = 0

    def connected(self) -> bool:
        return bool(self._tickers) and all(not t.closed for t in self._tickers)
