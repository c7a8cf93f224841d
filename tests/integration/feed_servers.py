"""Loopback stand-ins for the brokers, built from the SDK sources: one HTTP server answering SmartAPI's and Kite
Connect's login, profile and token routes, and websocket servers speaking SmartWebSocketV2's and KiteTicker's
protocols (auth, subscribe messages, binary tick packets as in ``tests/unit/feed/feed_wire.py``)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pyotp
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

_WIRE = str(Path(__file__).resolve().parents[1] / "unit" / "feed")
if _WIRE not in sys.path:
    sys.path.insert(0, _WIRE)

from feed_wire import angel_snap_quote, kite_full_quote, kite_message  # noqa: E402

ANGEL_LOGIN = "/rest/auth/angelbroking/user/v1/loginByPassword"
ANGEL_PROFILE = "/rest/secure/angelbroking/user/v1/getProfile"
ANGEL_TOKENS = "/rest/auth/angelbroking/jwt/v1/generateTokens"
KITE_SESSION = "/session/token"
KITE_PROFILE = "/user/profile"
ANGEL_CANDLES = "/rest/secure/angelbroking/historical/v1/getCandleData"
KITE_HISTORY = "/instruments/historical/"  # + {instrument_token}/{interval}
ANGEL_RATE_REFUSAL = "Access denied because of exceeding access rate"
IST = ZoneInfo("Asia/Kolkata")
MINUTE_MS = 60_000


@dataclass
class BrokerAccounts:
    """What the brokers know: one Angel client and one Kite app, and the sessions they have issued."""

    angel_api_key: str = "angel-key"
    angel_client_code: str = "A123456"
    angel_pin: str = "1234"
    angel_totp_secret: str = pyotp.random_base32()
    kite_api_key: str = "kite-key"
    kite_api_secret: str = "kite-secret"
    kite_request_token: str = "req-token-1"
    angel_jwts: dict[str, str] = field(default_factory=dict)  # jwt -> feed token
    angel_refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> jwt
    kite_tokens: set[str] = field(default_factory=set)
    kite_used_request_tokens: set[str] = field(default_factory=set)  # Kite request tokens are single-use
    issued: int = 0
    calls: list[tuple[str, str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def angel_credentials(self) -> dict[str, str]:
        return {
            "angel_api_key": self.angel_api_key,
            "angel_client_code": self.angel_client_code,
            "angel_pin": self.angel_pin,
            "angel_totp_secret": self.angel_totp_secret,
        }

    def kite_credentials(self) -> dict[str, str]:
        return {
            "kite_api_key": self.kite_api_key,
            "kite_api_secret": self.kite_api_secret,
            "kite_request_token": self.kite_request_token,
        }

    def called(self, path: str) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
        with self.lock:
            return [c for c in self.calls if c[1] == path]

    def expire_all(self) -> None:
        """The broker's day rolls over: every session it issued is now refused."""
        with self.lock:
            self.angel_jwts.clear()
            self.angel_refresh.clear()
            self.kite_tokens.clear()

    def _issue(self) -> int:
        self.issued += 1
        return self.issued


@dataclass
class HistoryTape:
    """What the brokers' history APIs know: a 1-minute bar for every in-session minute (09:15-15:30 IST) of a
    weekday that is not in ``holidays``, except the ``quiet`` minutes (no trade). Prices are rupees with paise,
    written into the JSON as number text. Both APIs enforce 3 requests a second (a 4th inside any second is
    refused as the broker would) and their per-request day limits; ``refuse_next`` forces rate-limit answers."""

    holidays: set[date] = field(default_factory=set)
    quiet: set[int] = field(default_factory=set)
    refuse_next: int = 0
    requests: list[tuple[str, float, dict[str, str]]] = field(
        default_factory=list
    )  # (broker, monotonic, params)
    refused: list[tuple[str, float]] = field(default_factory=list)  # rate-limit answers (broker, monotonic)

    @staticmethod
    def price_text(minute_ms: int) -> str:
        n = (minute_ms // MINUTE_MS) % 89
        return f"{1520 + n // 20}.{(n * 5) % 100:02d}"

    def rate_limited(self, broker: str) -> bool:
        now = time.monotonic()
        recent = [t for b, t, _ in self.requests if b == broker and now - t < 1.0]
        if self.refuse_next > 0 or len(recent) >= 3:
            self.refuse_next = max(0, self.refuse_next - 1)
            self.refused.append((broker, now))
            return True
        return False

    def rows(self, first_ms: int, last_ms: int, step_ms: int, offset: str) -> str:
        """The JSON text of the bars starting in ``[first_ms, last_ms]`` (both APIs' ``to`` is inclusive)."""
        out = []
        day = datetime.fromtimestamp(first_ms / 1000, tz=IST).date()
        while int(datetime.combine(day, dtime(9, 15), tzinfo=IST).timestamp() * 1000) <= last_ms:
            if day.weekday() < 5 and day not in self.holidays:
                open_ms = int(datetime.combine(day, dtime(9, 15), tzinfo=IST).timestamp() * 1000)
                for t in range(open_ms, open_ms + 375 * MINUTE_MS, step_ms):
                    if first_ms <= t <= last_ms and t not in self.quiet:
                        when = datetime.fromtimestamp(t / 1000, tz=IST).strftime("%Y-%m-%dT%H:%M:%S") + offset
                        p = self.price_text(t)
                        vol = 500 + (t // MINUTE_MS) % 17
                        out.append(f'["{when}",{p},{p},{p},{p},{vol}]')
            day += timedelta(days=1)
        return "[" + ",".join(out) + "]"


def _ist_ms(text: str, fmt: str) -> int:
    return int(datetime.strptime(text, fmt).replace(tzinfo=IST).timestamp() * 1000)


_KITE_STEPS = {"minute": (MINUTE_MS, 60), "5minute": (5 * MINUTE_MS, 100), "15minute": (15 * MINUTE_MS, 200)}
_ANGEL_STEPS = {
    "ONE_MINUTE": (MINUTE_MS, 30),
    "FIVE_MINUTE": (5 * MINUTE_MS, 100),
    "FIFTEEN_MINUTE": (15 * MINUTE_MS, 200),
}


def _angel_error(code: str, message: str) -> dict[str, Any]:
    return {"status": False, "message": message, "errorcode": code, "data": None}


def _kite_error(error_type: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "error_type": error_type, "data": None}


class _BrokerHandler(BaseHTTPRequestHandler):
    server: _BrokerHttpServer

    def log_message(self, *_: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        accounts = self.server.accounts
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            body: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw).items()}
        else:
            body = json.loads(raw) if raw else {}
        with accounts.lock:
            accounts.calls.append((method, url.path, body, dict(self.headers.items())))
            if method == "GET" and url.path.startswith(KITE_HISTORY):
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._answer(*self._kite_history(url.path, query))
                return
            if method == "POST" and url.path == ANGEL_CANDLES:
                self._answer(*self._angel_candles(body))
                return
            route = {
                ("POST", ANGEL_LOGIN): self._angel_login,
                ("GET", ANGEL_PROFILE): self._angel_profile,
                ("POST", ANGEL_TOKENS): self._angel_tokens,
                ("POST", KITE_SESSION): self._kite_session,
                ("GET", KITE_PROFILE): self._kite_profile,
            }.get((method, url.path))
            status, payload = route(body) if route else (404, {"message": "no such route"})
        self._answer(status, json.dumps(payload))

    def _answer(self, status: int, text: str, content_type: str = "application/json") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # history: Kite GET /instruments/historical/{token}/{interval}?from=&to=, SmartAPI POST getCandleData
    def _kite_history(self, path: str, query: dict[str, str]) -> tuple[int, str]:
        a, tape = self.server.accounts, self.server.tape
        key, _, token = (self.headers.get("Authorization") or "").removeprefix("token ").partition(":")
        if key != a.kite_api_key or token not in a.kite_tokens:
            return 403, json.dumps(_kite_error("TokenException", "Incorrect `api_key` or `access_token`."))
        if tape.rate_limited("kite"):
            return 429, json.dumps(_kite_error("NetworkException", "Too many requests"))
        parts = path.removeprefix(KITE_HISTORY).split("/")
        tape.requests.append(("kite", time.monotonic(), {"path": path, **query}))
        if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in _KITE_STEPS:
            return 400, json.dumps(_kite_error("InputException", "invalid instrument token or interval"))
        step, max_days = _KITE_STEPS[parts[1]]
        try:
            first = _ist_ms(query["from"], "%Y-%m-%d %H:%M:%S")
            last = _ist_ms(query["to"], "%Y-%m-%d %H:%M:%S")
        except (KeyError, ValueError):
            return 400, json.dumps(_kite_error("InputException", "invalid from or to date"))
        if last - first > max_days * 86_400_000:
            return 400, json.dumps(
                _kite_error("InputException", f"interval exceeds max limit: {max_days} days")
            )
        rows = tape.rows(first, last, step, "+0530")
        return 200, '{"status":"success","data":{"candles":' + rows + "}}"

    def _angel_candles(self, body: dict[str, Any]) -> tuple[int, str]:
        tape = self.server.tape
        if (
            self.headers.get("X-PrivateKey") != self.server.accounts.angel_api_key
            or self._angel_jwt() is None
        ):
            return 401, json.dumps(
                {"success": False, "message": "Invalid Token", "errorCode": "AG8001", "data": ""}
            )
        if tape.rate_limited("angel"):
            return 403, ANGEL_RATE_REFUSAL  # the gateway's answer is plain text, not JSON
        tape.requests.append(("angel", time.monotonic(), {k: str(v) for k, v in body.items()}))
        step_days = _ANGEL_STEPS.get(str(body.get("interval")))
        if (
            step_days is None
            or body.get("exchange") not in ("NSE", "NFO", "BSE")
            or not body.get("symboltoken")
        ):
            return 200, json.dumps(_angel_error("AB1018", "Failed to get symbol details"))
        try:
            first = _ist_ms(str(body["fromdate"]), "%Y-%m-%d %H:%M")
            last = _ist_ms(str(body["todate"]), "%Y-%m-%d %H:%M")
        except (KeyError, ValueError):
            return 200, json.dumps(_angel_error("AB1018", "Invalid date format"))
        step, max_days = step_days
        if last - first > max_days * 86_400_000:
            return 200, json.dumps(
                _angel_error("AB1018", f"date range exceeds {max_days} days for the interval")
            )
        rows = tape.rows(first, last, step, "+05:30")
        return 200, '{"status":true,"message":"SUCCESS","errorcode":"","data":' + rows + "}"

    # SmartAPI: JSON bodies, X-PrivateKey header, "status"/"errorcode" in a 200 answer, 401 + AG80xx for tokens
    def _angel_login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        a = self.server.accounts
        if self.headers.get("X-PrivateKey") != a.angel_api_key:
            return 200, _angel_error("AG8004", "Invalid API Key")
        if body.get("clientcode") != a.angel_client_code:
            return 200, _angel_error("AB1007", "Invalid client code")
        if body.get("password") != a.angel_pin:
            return 200, _angel_error("AB1050", "Invalid PIN")
        if not pyotp.TOTP(a.angel_totp_secret).verify(str(body.get("totp")), valid_window=1):
            return 200, _angel_error("AB1050", "Invalid totp")
        if self.server.angel_login_error:
            return 200, _angel_error(*self.server.angel_login_error)
        n = a._issue()
        jwt, refresh, feed = f"jwt-{n}", f"refresh-{n}", f"feed-{n}"
        a.angel_jwts[jwt], a.angel_refresh[refresh] = feed, jwt
        data = {"jwtToken": jwt, "refreshToken": refresh, "feedToken": feed}
        return 200, {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}

    def _angel_jwt(self) -> str | None:
        jwt = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        return jwt if jwt in self.server.accounts.angel_jwts else None

    def _angel_profile(self, _body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._angel_jwt() is None or self.server.angel_profile_refusals > 0:
            self.server.angel_profile_refusals -= 1
            return 401, _angel_error("AG8001", "Invalid Token")
        a = self.server.accounts
        data = {"clientcode": a.angel_client_code, "name": "IT", "exchanges": ["nse_cm", "nse_fo"]}
        return 200, {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}

    def _angel_tokens(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        a = self.server.accounts
        if self._angel_jwt() is None or body.get("refreshToken") not in a.angel_refresh:
            return 401, _angel_error("AG8002", "Token Expired")
        n = a._issue()
        jwt, feed = f"jwt-{n}", f"feed-{n}"
        a.angel_jwts[jwt] = feed
        data = {"jwtToken": jwt, "refreshToken": body["refreshToken"], "feedToken": feed}
        return 200, {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}

    # Kite Connect: form bodies, "token api_key:access_token" header, 403 TokenException for bad tokens
    def _kite_session(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        a = self.server.accounts
        want = hashlib.sha256(
            (a.kite_api_key + a.kite_request_token + a.kite_api_secret).encode()
        ).hexdigest()
        used = body.get("request_token") in a.kite_used_request_tokens
        if used or body.get("api_key") != a.kite_api_key or body.get("checksum") != want:
            return 403, _kite_error("TokenException", "Token is invalid or has expired.")
        a.kite_used_request_tokens.add(body["request_token"])
        token = f"access-{a._issue()}"
        a.kite_tokens.add(token)
        data = {"user_id": "ZX1234", "access_token": token, "login_time": "2026-11-23 08:55:00"}
        return 200, {"status": "success", "data": data}

    def _kite_profile(self, _body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        a = self.server.accounts
        key, _, token = (self.headers.get("Authorization") or "").removeprefix("token ").partition(":")
        if key != a.kite_api_key or token not in a.kite_tokens:
            return 403, _kite_error("TokenException", "Incorrect `api_key` or `access_token`.")
        return 200, {"status": "success", "data": {"user_id": "ZX1234", "user_name": "IT"}}


class _BrokerHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, accounts: BrokerAccounts) -> None:
        super().__init__(("127.0.0.1", 0), _BrokerHandler)
        self.accounts = accounts
        self.tape = HistoryTape()
        self.angel_login_error: tuple[str, str] | None = None
        self.angel_profile_refusals = 0


class BrokerHttp:
    """SmartAPI and Kite Connect REST on one loopback port; ``url`` is the SDKs' ``root``."""

    def __init__(self, accounts: BrokerAccounts) -> None:
        self._server = _BrokerHttpServer(accounts)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="broker-http", daemon=True)
        self._thread.start()

    @property
    def tape(self) -> HistoryTape:
        """The history both brokers answer from, and the requests they saw."""
        return self._server.tape

    def refuse_angel_logins(self, code: str, message: str) -> None:
        self._server.angel_login_error = (code, message)

    def refuse_angel_profiles(self, times: int) -> None:
        """The next ``times`` profile calls answer 401 AG8001 (the token-error code) whatever the JWT."""
        self._server.angel_profile_refusals = times

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class Connection:
    path: str
    headers: dict[str, str]
    messages: list[Any] = field(default_factory=list)
    sent: int = 0
    # what this connection streams (as the brokers do: a subscription belongs to its socket)
    subscribed: dict[Any, Any] = field(default_factory=dict)

    def requests(self) -> list[dict[str, Any]]:
        """The JSON requests the client sent on this connection (heartbeats aside)."""
        return [json.loads(m) for m in self.messages if isinstance(m, str) and m != "ping"]


class _TickServer:
    """A websocket server that records handshakes and messages and, while ``ticking``, pushes one packet per
    subscribed token every ``every_s``. ``drop()`` cuts the TCP connections as a network failure would."""

    every_s = 0.02

    def __init__(self, port: int = 0) -> None:
        """``port``: 0 for any free one; a killed server's port to start it again where its clients look."""
        self.connections: list[Connection] = []
        self.refused: list[int] = []
        self.ticking = threading.Event()
        self.ticking.set()
        self._live: list[ServerConnection] = []
        self._lock = threading.Lock()
        self._server: Server = serve(
            self._handle, "127.0.0.1", port, process_request=self._process_request, compression=None
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="broker-ws", daemon=True)
        self._thread.start()

    # subclasses: the auth check, what a message subscribes, and the packets for a tick
    def _auth_status(self, path: str, headers: dict[str, str]) -> int:
        raise NotImplementedError

    def _on_message(self, conn: Connection, message: str | bytes, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _packets(self, conn: Connection, n: int) -> list[bytes]:
        raise NotImplementedError

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        status = self._auth_status(request.path, headers)
        if status != 101:
            with self._lock:
                self.refused.append(status)
            return ws.respond(status, "session refused\n")
        return None

    def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        conn = Connection(ws.request.path, {k.lower(): v for k, v in ws.request.headers.raw_items()})
        with self._lock:
            self.connections.append(conn)
            self._live.append(ws)
        n = 0
        try:
            while True:
                try:
                    message = ws.recv(timeout=self.every_s)
                except TimeoutError:
                    if self.ticking.is_set():
                        for packet in self._packets(conn, n):
                            ws.send(packet)
                            conn.sent += 1
                        n += 1
                    continue
                conn.messages.append(message)
                self._on_message(conn, message, ws)
        except ConnectionClosed:
            pass
        except OSError:  # the socket was cut by drop()
            pass
        finally:
            with self._lock:
                if ws in self._live:
                    self._live.remove(ws)

    def live(self) -> int:
        with self._lock:
            return len(self._live)

    def drop(self) -> None:
        with self._lock:
            live = list(self._live)
        for ws in live:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.drop()
        self._server.shutdown()
        self._thread.join(timeout=5)


def _ms(n: int) -> int:
    return time.time_ns() // 1_000_000 + n  # rising exchange timestamps, epoch ms


class AngelSmartStream(_TickServer):
    """SmartWebSocketV2: auth in headers, ``{"action": 1, "params": {"mode", "tokenList"}}`` to subscribe,
    text ``ping`` answered by ``pong``, SNAP_QUOTE (or QUOTE) packets little-endian in paise."""

    def __init__(self, accounts: BrokerAccounts, ltp_base: int = 12_300, port: int = 0) -> None:
        self.accounts, self.ltp_base = accounts, ltp_base
        self.subscribed: dict[tuple[int, str], int] = {}  # (exchange type, token) -> mode
        self.expired_status = 401  # what a stale or unknown JWT gets at the handshake
        super().__init__(port)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/smart-stream"

    def _auth_status(self, path: str, headers: dict[str, str]) -> int:
        jwt = headers.get("authorization", "").removeprefix("Bearer ")
        a = self.accounts
        with a.lock:
            feed = a.angel_jwts.get(jwt)
        if headers.get("x-api-key") != a.angel_api_key or headers.get("x-client-code") != a.angel_client_code:
            return 401
        if feed is None or headers.get("x-feed-token") != feed:
            return self.expired_status
        return 101

    def _on_message(self, conn: Connection, message: str | bytes, ws: ServerConnection) -> None:
        if message == "ping":
            ws.send("pong")
            return
        request = json.loads(message)
        params = request["params"]
        for group in params["tokenList"]:
            for token in group["tokens"]:
                key = (int(group["exchangeType"]), str(token))
                if request["action"] == 1:
                    self.subscribed[key] = conn.subscribed[key] = int(params["mode"])
                else:
                    self.subscribed.pop(key, None)
                    conn.subscribed.pop(key, None)

    def _packets(self, conn: Connection, n: int) -> list[bytes]:
        out = []
        for (exchange_type, token), mode in list(conn.subscribed.items()):
            ltp = self.ltp_base + n % 50
            packet = angel_snap_quote(
                token, exchange_type, ltp, _ms(0), qty=65, volume=65 * (n + 1), open_=12_000,
                close=11_900, oi=650_000, bid=ltp - 5, ask=ltp + 5, seq=n + 1,
            )  # fmt: skip
            out.append(packet if mode == 3 else bytes([mode]) + packet[1:123])  # QUOTE: the first 123 bytes
        return out


class KiteTickerServer(_TickServer):
    """KiteTicker: ``?api_key=&access_token=`` in the URL (403 if stale), ``{"a": "subscribe", "v": [...]}`` and
    ``{"a": "mode", "v": ["full", [...]]}``, binary messages of big-endian packets, 1-byte heartbeats."""

    def __init__(self, accounts: BrokerAccounts, ltp_base: int = 22_300, port: int = 0) -> None:
        self.accounts, self.ltp_base = accounts, ltp_base
        self.modes: dict[int, str] = {}
        super().__init__(port)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _auth_status(self, path: str, headers: dict[str, str]) -> int:
        query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        with self.accounts.lock:
            ok = (
                query.get("api_key") == self.accounts.kite_api_key
                and query.get("access_token") in self.accounts.kite_tokens
            )
        return 101 if ok else 403

    def _on_message(self, conn: Connection, message: str | bytes, ws: ServerConnection) -> None:
        request = json.loads(message)
        if request["a"] == "subscribe":
            for token in request["v"]:
                self.modes.setdefault(int(token), "quote")
                conn.subscribed.setdefault(int(token), "quote")
        elif request["a"] == "mode":
            mode, tokens = request["v"]
            for token in tokens:
                self.modes[int(token)] = conn.subscribed[int(token)] = mode
        elif request["a"] == "unsubscribe":
            for token in request["v"]:
                self.modes.pop(int(token), None)
                conn.subscribed.pop(int(token), None)

    def _packets(self, conn: Connection, n: int) -> list[bytes]:
        full = [
            kite_full_quote(
                token,
                self.ltp_base + n % 50,
                _ms(0) // 1000,
                qty=65,
                volume=65 * (n + 1),
                open_=22_000,
                close=21_900,
                oi=130_000,
                bid=self.ltp_base - 5,
                ask=self.ltp_base + 5,
            )
            for token, mode in list(conn.subscribed.items())
            if mode == "full"
        ]
        heartbeat = [b"\x00"] if n % 10 == 0 else []
        return heartbeat + ([kite_message(*full)] if full else [])


def wait_for(predicate: Callable[[], Any], timeout_s: float = 5.0, every_s: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s}s")
