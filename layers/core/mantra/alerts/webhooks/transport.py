"""Sending one webhook attempt over HTTP to a vetted, pinned address.

The request goes to the IP the guard checked (no second DNS lookup) with the original ``Host`` header; for https
the TLS SNI and certificate check use the original host name (httpcore's ``sni_hostname`` extension). Redirects
are never followed (a 3xx is a failed attempt), proxies from the environment are ignored, timeouts are short and
at most ``MAX_RESPONSE_BYTES`` of the response are read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from mantra.alerts.webhooks.ssrf import Target

MAX_RESPONSE_BYTES = 4096
USER_AGENT = "TradeMantra-Webhooks/1.0"


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    error: str | None
    latency_ms: int
    body_excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class HttpSender(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpResult: ...


class PinnedHttpSender:
    def __init__(
        self,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=1.0
        )
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # an HTTPS_PROXY in the environment would resolve the name again
            # pooled by IP, a kept-alive TLS connection verified for one host could carry another host's request
            limits=httpx.Limits(max_keepalive_connections=0),
            transport=transport,
        )

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpResult:
        started = time.monotonic()
        last_error = "no address to connect to"
        for address in target.addresses:
            request = self.build(target, address, body, headers)
            try:
                response = self._client.send(request, stream=True, follow_redirects=False)
                try:
                    excerpt = _read_capped(response)
                    status = response.status_code
                finally:
                    response.close()
            except httpx.ConnectError as exc:  # try the next vetted address of the same name
                last_error = f"connect error: {exc}"[:300]
                continue
            except httpx.TimeoutException as exc:
                return HttpResult(None, f"timeout ({exc.__class__.__name__})", _ms(started))
            except httpx.HTTPError as exc:
                return HttpResult(None, f"{exc.__class__.__name__}: {exc}"[:300], _ms(started))
            error = None
            if 300 <= status < 400:
                error = f"redirect to {response.headers.get('location', '?')!s:.200} not followed"
            return HttpResult(status, error, _ms(started), excerpt)
        return HttpResult(None, last_error, _ms(started))

    @staticmethod
    def build(target: Target, address: str, body: bytes, headers: dict[str, str]) -> httpx.Request:
        """The request to the pinned address: Host and SNI name the original host."""
        url = httpx.URL(target.url).copy_with(host=address, port=target.port)
        extensions: dict[str, object] = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        return httpx.Request(
            "POST",
            url,
            content=body,
            headers={
                **headers,
                "host": target.host_header,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            },
            extensions=extensions,
        )

    def close(self) -> None:
        self._client.close()


def _read_capped(response: httpx.Response) -> str:
    """At most MAX_RESPONSE_BYTES of the raw (undecoded: no decompression bombs) body."""
    if response.is_stream_consumed:  # already in memory (in-process transports)
        return response.content[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= MAX_RESPONSE_BYTES:
            break
    return data[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
