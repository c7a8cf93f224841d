"""The brokers' history APIs through their SDKs, as ``mantra.market.broker_history.BrokerHistory`` adapters.

* Kite Connect ``historical_data``: GET /instruments/historical/{token}/{interval}?from=&to= (IST wall times),
  answering ``{"status": "success", "data": {"candles": [["2024-01-01T09:15:00+0530", o, h, l, c, v], ...]}}``.
  3 requests a second; per request at most 60 days of minute candles (100 for 5m, 200 for 15m, 400 for 60m,
  2000 for day). HTTP 429 is the rate-limit answer.
* Angel One SmartAPI ``getCandleData``: POST .../historical/v1/getCandleData with exchange, symboltoken,
  interval (ONE_MINUTE, ...), fromdate/todate ``YYYY-MM-DD HH:MM`` (IST), answering ``{"status": true, "message":
  "SUCCESS", "errorcode": "", "data": [["2024-01-01T09:15:00+05:30", o, h, l, c, v], ...]}``. 3 requests a
  second, 180 a minute, 5000 an hour; per request at most 30 days of ONE_MINUTE (100 for FIVE_MINUTE, 200 for
  FIFTEEN_MINUTE, 400 for ONE_HOUR, 2000 for ONE_DAY). Over the limit its gateway answers "Access denied because
  of exceeding access rate" (not JSON, so the SDK raises ``DataException`` with that text).

Both ``to`` times are inclusive, so a chunk ``[s, e)`` asks up to the last bar starting before ``e``. An expired
session is dropped and made again on the retry; the SDK client comes from ``connect`` (the builders below log in
as the feed providers do), so unit tests pass fakes and no socket is opened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mantra.clock import Clock
from mantra.domain import Instrument
from mantra.market.broker_history import (
    BrokerHistoryError,
    HistoryResult,
    Pacer,
    RateLimit,
    RateLimited,
    Retry,
    Transient,
    check_span,
    chunks,
    ist_text,
    parse_rows,
    with_retries,
)
from mantra.market.timeframes import TIMEFRAMES_MS

log = logging.getLogger(__name__)

# our timeframe -> (the API's interval name, most days one request may span)
KITE_INTERVALS: dict[str, tuple[str, int]] = {
    "1m": ("minute", 60),
    "5m": ("5minute", 100),
    "15m": ("15minute", 200),
    "1h": ("60minute", 400),
    "1d": ("day", 2000),
}
ANGEL_INTERVALS: dict[str, tuple[str, int]] = {
    "1m": ("ONE_MINUTE", 30),
    "5m": ("FIVE_MINUTE", 100),
    "15m": ("FIFTEEN_MINUTE", 200),
    "1h": ("ONE_HOUR", 400),
    "1d": ("ONE_DAY", 2000),
}
KITE_LIMITS = (RateLimit(3, 1.0),)
ANGEL_LIMITS = (RateLimit(3, 1.0), RateLimit(180, 60.0), RateLimit(5000, 3600.0))

ANGEL_RATE_TEXT = "exceeding access rate"
_ANGEL_SESSION_CODES = {"AG8001", "AG8002", "AG8003"}  # invalid, expired, missing token: log in again
_ANGEL_TRY_LATER = {"AB1004", "AB2001"}  # "something went wrong / internal error, please try after sometime"
_TRANSIENT_HTTP = {500, 502, 503, 504}


class KiteHistoryClient(Protocol):
    def historical_data(
        self,
        instrument_token: int,
        from_date: str,
        to_date: str,
        interval: str,
        continuous: bool = False,
        oi: bool = False,
    ) -> Any:
        """The raw candle rows (``_RawKite`` keeps them as the API sent them)."""
        ...


class AngelHistoryClient(Protocol):
    def getCandleData(self, historicDataParams: dict[str, Any]) -> Any: ...  # noqa: N802, N803 (the SDK's names)


class _Adapter:
    name = ""
    intervals: dict[str, tuple[str, int]] = {}

    def __init__(
        self,
        connect: Callable[[], Any],
        pacer: Pacer,
        retry: Retry = Retry(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._connect, self._pacer, self._retry, self._sleep = connect, pacer, retry, sleep
        self._client: Any = None

    def _sdk(self) -> Any:
        from mantra.feed.base import NeedsLogin, ProviderUnavailable

        if self._client is None:
            try:
                self._client = self._connect()
            except NeedsLogin as exc:  # a person must act: retrying cannot help
                raise BrokerHistoryError(f"{self.name} needs a login: {exc}") from exc
            except ProviderUnavailable as exc:
                raise Transient(f"{self.name} login failed: {exc}") from exc
        return self._client

    def _drop_session(self) -> None:
        self._client = None

    def fetch(self, instrument: Instrument, timeframe: str, start_ms: int, end_ms: int) -> HistoryResult:
        check_span(timeframe, start_ms, end_ms)
        if timeframe not in self.intervals:
            raise ValueError(
                f"{self.name} history has no {timeframe!r} interval; use {', '.join(self.intervals)}"
            )
        interval, max_days = self.intervals[timeframe]
        step = TIMEFRAMES_MS[timeframe]
        result = HistoryResult()
        for s, e in chunks(start_ms, end_ms, max_days):
            what = f"{self.name} history {instrument.symbol} {timeframe} {ist_text(s, True)}..{ist_text(e, True)} IST"

            def one(s: int = s, e: int = e) -> Any:
                self._sdk()  # log in first: a login's own requests are not history requests
                # every attempt is a request: each is paced
                return self._pacer.call(lambda: self._request(instrument, interval, s, e - step))

            rows, attempts = with_retries(one, self._retry, self._sleep, what)
            result.requests += attempts
            candles, problems = parse_rows(self.name, instrument.symbol, timeframe, rows, s, e)
            result.candles.extend(candles)
            result.problems.extend(problems)
        for p in result.problems:
            log.warning("skipped a history row: %s", p)
        result.candles.sort(key=lambda c: c.start_ms)
        return result

    def _request(self, instrument: Instrument, interval: str, first_ms: int, last_ms: int) -> Any:
        raise NotImplementedError


class KiteHistory(_Adapter):
    name = "kite"
    intervals = KITE_INTERVALS

    def __init__(
        self,
        connect: Callable[[], KiteHistoryClient],
        pacer: Pacer | None = None,
        retry: Retry = Retry(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(connect, pacer or Pacer(KITE_LIMITS), retry, sleep)

    def _request(self, instrument: Instrument, interval: str, first_ms: int, last_ms: int) -> Any:
        import requests
        from kiteconnect import exceptions as kex

        token = instrument.own_token("kite") or ""
        if not token.isdigit():
            raise BrokerHistoryError(f"{instrument.symbol} has no Kite instrument token (got {token!r})")
        try:
            rows = self._sdk().historical_data(
                int(token), ist_text(first_ms, True), ist_text(last_ms, True), interval
            )
        except kex.TokenException as exc:
            self._drop_session()
            raise Transient("the Kite session expired; logging in again") from exc
        except kex.KiteException as exc:
            if exc.code == 429:
                raise RateLimited(f"HTTP 429 {exc}") from exc
            if exc.code in _TRANSIENT_HTTP or isinstance(exc, kex.NetworkException):
                raise Transient(f"HTTP {exc.code} {exc}") from exc
            raise BrokerHistoryError(f"Kite refused {instrument.symbol}: HTTP {exc.code} {exc}") from exc
        except requests.RequestException as exc:
            raise Transient(type(exc).__name__) from exc
        return rows


class AngelHistory(_Adapter):
    name = "angel"
    intervals = ANGEL_INTERVALS

    def __init__(
        self,
        connect: Callable[[], AngelHistoryClient],
        pacer: Pacer | None = None,
        retry: Retry = Retry(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(connect, pacer or Pacer(ANGEL_LIMITS), retry, sleep)

    def _request(self, instrument: Instrument, interval: str, first_ms: int, last_ms: int) -> Any:
        import requests
        from SmartApi.smartExceptions import SmartAPIException

        params = {
            "exchange": instrument.exchange,
            "symboltoken": instrument.token_for("angel"),
            "interval": interval,
            "fromdate": ist_text(first_ms, False),
            "todate": ist_text(last_ms, False),
        }
        try:
            resp = self._sdk().getCandleData(params)
        except SmartAPIException as exc:  # DataException: the answer was not JSON
            if ANGEL_RATE_TEXT in str(exc):
                raise RateLimited(ANGEL_RATE_TEXT) from exc
            raise Transient(f"SmartAPI answered {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise Transient(type(exc).__name__) from exc
        return self._rows(instrument, resp)

    def _rows(self, instrument: Instrument, resp: Any) -> Any:
        if not isinstance(resp, Mapping):
            raise Transient(f"SmartAPI answered {type(resp).__name__}, not an object")
        if resp.get("status") is True or resp.get("success") is True:
            return resp.get("data")
        code = str(resp.get("errorcode") or resp.get("errorCode") or "")
        message = str(resp.get("message") or "")
        if code in _ANGEL_SESSION_CODES:
            self._drop_session()
            raise Transient(f"the SmartAPI session was refused ({code}); logging in again")
        if ANGEL_RATE_TEXT in message.lower() or "too many requests" in message.lower():
            raise RateLimited(f"{code} {message}".strip())
        if code in _ANGEL_TRY_LATER:
            raise Transient(f"{code} {message}")
        raise BrokerHistoryError(f"SmartAPI refused {instrument.symbol}: {code or 'no code'} {message}")


# building the SDK clients: log in as the feed providers do
def kite_connect(
    credentials: Callable[[], Mapping[str, Any]],
    clock: Clock,
    api_url: str = "",
    session: Callable[[], tuple[str, str]] | None = None,
) -> KiteHistoryClient:
    """A Kite client on ``session()`` (the feed's ``KiteProvider.session``: a Kite request token works once),
    or on a login of its own."""
    from kiteconnect import KiteConnect

    from mantra.feed.providers.kite import KiteProvider

    class _RawKite(KiteConnect):
        # the SDK parses every row's time itself, so one malformed row would fail the whole answer; keep the
        # rows as sent and let ``parse_rows`` skip just the bad ones
        def _format_historical(self, data: Any) -> Any:
            return data.get("candles") if isinstance(data, dict) else data

    api_key, token = (session or KiteProvider(credentials, clock, api_url=api_url).login)()
    client = _RawKite(api_key=api_key, root=api_url or None)
    client.set_access_token(token)
    return client


def angel_connect(
    credentials: Callable[[], Mapping[str, Any]], clock: Clock, api_url: str = ""
) -> AngelHistoryClient:
    from SmartApi.smartConnect import SmartConnect

    from mantra.feed.providers.angel import AngelProvider
    from mantra.feed.providers.common import sdk_scratch_dir

    session = AngelProvider(credentials, clock, api_url=api_url).login()
    with sdk_scratch_dir():
        client = SmartConnect(api_key=session.api_key, access_token=session.jwt, root=api_url or None)
    return client


BROKERS = ("kite", "angel")


def broker_history(
    name: str,
    credentials: Callable[[], Mapping[str, Any]],
    clock: Clock,
    api_url: str = "",
    retry: Retry = Retry(),
    kite_session: Callable[[], tuple[str, str]] | None = None,
) -> KiteHistory | AngelHistory:
    """The history adapter for ``name`` (``kite`` or ``angel``), logging in lazily on its first request;
    ``kite_session``: the feed's Kite session to share (see ``kite_connect``)."""
    if name == "kite":
        return KiteHistory(lambda: kite_connect(credentials, clock, api_url, kite_session), retry=retry)
    if name == "angel":
        return AngelHistory(lambda: angel_connect(credentials, clock, api_url), retry=retry)
    raise ValueError(f"no history API for broker {name!r}; use one of {', '.join(BROKERS)}")
