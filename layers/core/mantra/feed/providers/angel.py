"""Angel One SmartAPI: login with client code, PIN and TOTP (SmartConnect), ticks over SmartWebSocketV2 in
SNAP_QUOTE mode (LTP, OHLC, volume, OI, best five). At most 1000 tokens per connection and 3 connections. A
subscription change is sent on the open sockets (unsubscribe / subscribe with the token lists by exchange type),
planned by ``mantra.feed.connections``; a socket is opened, on the same session, only when the open ones are full.

Sessions expire daily: a session is reused only on the IST day it was made, and dropped when the websocket
rejects it, so the next connect logs in again. A wrong PIN or TOTP secret is ``NeedsLogin`` (a person must fix
the ``mantra/<stage>/broker`` secret); anything else is ``ProviderUnavailable``.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mantra.clock import Clock, ist_from_ms
from mantra.domain import Instrument, Tick
from mantra.feed.base import NeedsLogin, ProviderUnavailable, Stamper, TickSink
from mantra.feed.connections import plan_connections
from mantra.feed.providers.common import oi_contracts, sdk_scratch_dir, silence_sdk_logs
from mantra.feed.subscription import shard

log = logging.getLogger(__name__)

EXCHANGE_TYPE = {"NSE": 1, "NFO": 2, "BSE": 3, "BFO": 4, "MCX": 5}
PER_CONNECTION, MAX_CONNECTIONS = 1000, 3
SNAP_QUOTE = 3
Key = tuple[int, str]  # (exchange type, Angel token): Angel numbers each segment on its own
# SmartAPI login errors a retry cannot fix: invalid credentials, TOTP, client code
_CREDENTIAL_ERRORS = {"AB1050", "AB1007", "AB1008", "AB1004", "AB1005", "AB1006", "AB1011", "AB1031"}


@dataclass(frozen=True)
class _Session:
    api_key: str
    client_code: str
    jwt: str
    feed_token: str
    ist_day: str


def to_tick(d: Mapping[str, Any], inst: Instrument, stamper: Stamper) -> Tick | None:
    """A parsed SmartWebSocketV2 packet -> Tick. Prices are paise already (NSE/BSE/NFO)."""
    ltp = int(d.get("last_traded_price") or 0)
    ts = int(d.get("exchange_timestamp") or 0)
    if ltp <= 0 or ts <= 0:
        return None
    buys, sells = d.get("best_5_buy_data") or [], d.get("best_5_sell_data") or []
    bid = int(buys[0]["price"]) if buys and buys[0]["price"] > 0 else None
    ask = int(sells[0]["price"]) if sells and sells[0]["price"] > 0 else None
    tick_id, seq = stamper.next(inst.token)
    return Tick(
        tick_id=tick_id,
        seq=seq,
        symbol=inst.symbol,
        token=inst.token,
        ts_ms=ts,
        ltp_paise=ltp,
        last_qty=max(0, int(d.get("last_traded_quantity") or 0)),
        volume=max(0, int(d.get("volume_trade_for_the_day") or 0)),
        bid_paise=bid,
        ask_paise=ask,
        open_paise=int(d["open_price_of_the_day"]) if d.get("open_price_of_the_day") else None,
        prev_close_paise=int(d["closed_price"]) if d.get("closed_price") else None,
        oi=oi_contracts(d.get("open_interest"), inst),
    )


class AngelProvider:
    name = "angel"

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
        self._session: _Session | None = None
        self._sockets: list[Any] = []
        self._keys: list[tuple[Key, ...]] = []  # each socket's (exchange type, token) pairs
        self._update_lock = threading.Lock()
        self._by_token: dict[Key, Instrument] = {}
        self._sink: TickSink | None = None
        self.streaming = 0
        silence_sdk_logs()

    # --- login ---------------------------------------------------------------------------------------------
    def login(self) -> _Session:
        import pyotp
        import requests
        from SmartApi.smartConnect import SmartConnect

        creds = self._credentials()
        missing = [
            k
            for k in ("angel_api_key", "angel_client_code", "angel_pin", "angel_totp_secret")
            if not creds.get(k)
        ]
        if missing:
            raise NeedsLogin(f"the broker secret lacks {', '.join(missing)}")
        try:
            totp = pyotp.TOTP(str(creds["angel_totp_secret"])).now()
        except Exception as exc:
            raise NeedsLogin("the TOTP secret in the broker secret is not valid base32") from exc
        try:
            with sdk_scratch_dir():
                api = SmartConnect(api_key=creds["angel_api_key"], root=self._api_url or None)
            resp = api.generateSession(creds["angel_client_code"], creds["angel_pin"], totp)
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            # TypeError: generateSession indexes the profile's "data", which is null on a token error (AG8001)
            raise ProviderUnavailable(f"SmartAPI login failed: {type(exc).__name__}") from exc
        data = resp.get("data") if isinstance(resp, dict) else None
        if not isinstance(resp, dict) or not resp.get("status") or not data:
            code = str(resp.get("errorcode", "")) if isinstance(resp, dict) else ""
            message = f"SmartAPI login refused ({code or 'no code'})"
            if code in _CREDENTIAL_ERRORS:
                raise NeedsLogin(message)
            raise ProviderUnavailable(message)
        jwt = str(data["jwtToken"]).removeprefix("Bearer ")
        return _Session(
            api_key=str(creds["angel_api_key"]),
            client_code=str(creds["angel_client_code"]),
            jwt=jwt,
            feed_token=str(data["feedToken"]),
            ist_day=ist_from_ms(self._clock.now_ms()).date().isoformat(),
        )

    def _valid_session(self) -> _Session:
        today = ist_from_ms(self._clock.now_ms()).date().isoformat()
        if self._session is None or self._session.ist_day != today:
            self._session = self.login()
        return self._session

    # --- streaming -----------------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        return self.per_connection * self.max_connections

    @staticmethod
    def _wanted(instruments: Sequence[Instrument]) -> dict[Key, Instrument]:
        return {
            (EXCHANGE_TYPE[i.exchange], i.token_for("angel")): i
            for i in instruments
            if i.exchange in EXCHANGE_TYPE
        }

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        self._sink = sink
        session = self._valid_session()
        wanted = self._wanted(instruments)
        self._by_token = wanted
        self._sockets, self._keys = [], []
        try:
            for part in shard(list(wanted), self.per_connection, self.max_connections) or [[]]:
                self._sockets.append(self._open(session, part, sink))
                self._keys.append(tuple(part))
        except Exception:
            self.stop()
            raise
        self.streaming = len(wanted)

    def _open(self, session: _Session, part: Sequence[Key], sink: TickSink) -> Any:
        sock = _socket_class()(session, self._ws_url)
        opened, failed = threading.Event(), threading.Event()

        def on_open(_ws: Any) -> None:
            if part:
                sock.subscribe(uuid.uuid4().hex[:10], SNAP_QUOTE, token_list(part))
            opened.set()

        def on_data(_ws: Any, d: Mapping[str, Any]) -> None:
            inst = self._by_token.get((int(d.get("exchange_type", 0)), str(d.get("token"))))
            if inst is None:
                return
            t = to_tick(d, inst, self._stamper)
            if t is not None:
                sink([t])

        def on_close(*_: Any) -> None:
            sock.closed = True
            failed.set()

        sock.on_open, sock.on_data, sock.on_close = on_open, on_data, on_close
        sock.on_error = lambda *_: on_close()
        thread = threading.Thread(target=sock.connect, name="angel-ws", daemon=True)
        sock.thread = thread
        thread.start()
        for _ in range(int(self._open_timeout * 20)):
            if opened.is_set() or failed.is_set():
                break
            opened.wait(0.05)
        if not opened.is_set():
            status = getattr(sock.last_error, "status_code", None)
            sock.close_connection()
            if status in (401, 403):
                self._session = None  # the session expired early: log in afresh next time
                raise ProviderUnavailable(f"SmartWebSocketV2 refused the session (HTTP {status})")
            raise ProviderUnavailable(f"SmartWebSocketV2 did not open: {type(sock.last_error).__name__}")
        return sock

    def update(self, instruments: Sequence[Instrument]) -> None:
        """Change the subscription on the open sockets: an unsubscribe (action 0) for what went and a subscribe
        (action 1, SNAP_QUOTE) for what came, on the first socket with room; a new socket, on the same session,
        only when the open ones are full."""
        if self._sink is None or not self._sockets:
            return
        with self._update_lock:
            wanted = self._wanted(instruments)
            plan = plan_connections(self._keys, list(wanted), self.per_connection, self.max_connections)
            if not plan.changes:
                return
            self._by_token = {**self._by_token, **wanted}  # ticks of new tokens map from their first packet
            opened: list[Any] = []
            try:
                for n, keys in plan.unsubscribe.items():
                    self._sockets[n].unsubscribe(uuid.uuid4().hex[:10], SNAP_QUOTE, token_list(keys))
                for n, keys in plan.subscribe.items():
                    self._sockets[n].subscribe(uuid.uuid4().hex[:10], SNAP_QUOTE, token_list(keys))
                for keys in plan.open:
                    opened.append(self._open(self._valid_session(), keys, self._sink))
            except Exception:
                self._sockets.extend(opened)
                self.stop()  # half applied: drop it all, so the failover reconnects with the whole subscription
                raise
            for n in sorted(plan.close, reverse=True):
                self._close(self._sockets.pop(n))
            self._sockets.extend(opened)
            self._keys = list(plan.after)
            self._by_token = wanted
            self.streaming = len(wanted)
            log.info(
                "angel: subscription changed in place (%d unsubscribes, %d subscribes, %d opened, %d closed)",
                sum(map(len, plan.unsubscribe.values())), sum(map(len, plan.subscribe.values())),
                len(plan.open), len(plan.close),
            )  # fmt: skip

    @staticmethod
    def _close(sock: Any) -> None:
        try:
            sock.close_connection()
        except Exception as exc:
            log.debug("closing a SmartAPI socket: %s", exc)

    def stop(self) -> None:
        for sock in self._sockets:
            self._close(sock)
        self._sockets, self._keys = [], []
        self.streaming = 0

    def connected(self) -> bool:
        return bool(self._sockets) and all(not s.closed and s.thread.is_alive() for s in self._sockets)


def token_list(keys: Sequence[Key]) -> list[dict[str, Any]]:
    """SmartWebSocketV2's ``token_list``: tokens grouped by exchange type, in the order given."""
    groups: dict[int, list[str]] = {}
    for exchange_type, token in keys:
        groups.setdefault(exchange_type, []).append(token)
    return [{"exchangeType": k, "tokens": v} for k, v in groups.items()]


_SOCKET: type | None = None


def _socket_class() -> type:
    """SmartWebSocketV2 without its side effects: its __init__ writes ./logs and its subscription dict is
    shared by every instance (a class attribute), which would mix the shards on a reconnect."""
    global _SOCKET
    if _SOCKET is None:
        from SmartApi.smartWebSocketV2 import SmartWebSocketV2

        class _Socket(SmartWebSocketV2):
            def __init__(self, session: _Session, url: str) -> None:
                self.auth_token, self.api_key = session.jwt, session.api_key
                self.client_code, self.feed_token = session.client_code, session.feed_token
                self.DISCONNECT_FLAG, self.last_pong_timestamp = True, None
                self.MAX_RETRY_ATTEMPT, self.current_retry_attempt = 0, 0  # our failover reconnects
                self.retry_strategy, self.retry_delay, self.retry_multiplier, self.retry_duration = (
                    0,
                    0,
                    2,
                    60,
                )
                self.input_request_dict: dict[int, dict[int, list[str]]] = {}
                self.RESUBSCRIBE_FLAG = False
                if url:
                    self.ROOT_URI = url
                self.closed, self.last_error, self.thread = False, None, None

            def subscribe(self, correlation_id: str, mode: int, token_list: list[dict[str, Any]]) -> None:
                # the SDK keeps (and later extends) the caller's token lists: give it copies
                copies = [
                    {"exchangeType": g["exchangeType"], "tokens": list(g["tokens"])} for g in token_list
                ]
                super().subscribe(correlation_id, mode, copies)

            def unsubscribe(self, correlation_id: str, mode: int, token_list: list[dict[str, Any]]) -> None:
                # the SDK's merges the request itself into its subscription record; send the same frame and
                # take the tokens out of the record instead
                request = {"correlationID": correlation_id, "action": self.UNSUBSCRIBE_ACTION,
                           "params": {"mode": mode, "tokenList": token_list}}  # fmt: skip
                by_type = self.input_request_dict.get(mode, {})
                for group in token_list:
                    gone = set(group["tokens"])
                    have = by_type.get(group["exchangeType"], [])
                    by_type[group["exchangeType"]] = [t for t in have if t not in gone]
                self.wsapp.send(json.dumps(request))

            def _on_error(self, wsapp: Any, error: Any) -> None:
                self.last_error = error
                super()._on_error(wsapp, error)

            def _on_close(self, wsapp: Any, *_status_and_reason: Any) -> None:
                # websocket-client calls on_close(ws, status, reason); the SDK's takes (ws) only, and the
                # TypeError went to _on_error, replacing the handshake's HTTP 401/403 in last_error: the
                # expired session was then never dropped and every reconnect retried it
                self.on_close(wsapp)

        _SOCKET = _Socket
    return _SOCKET
