"""The pinned HTTP sender: the vetted IP is dialled with the original Host/SNI; no redirects; capped reads."""

from __future__ import annotations

import httpx
from mantra.alerts.webhooks.ssrf import Target
from mantra.alerts.webhooks.transport import MAX_RESPONSE_BYTES, PinnedHttpSender

TARGET = Target(
    url="https://hooks.example.com:8443/in?x=1",
    scheme="https",
    host="hooks.example.com",
    port=8443,
    host_header="hooks.example.com:8443",
    path="/in?x=1",
    addresses=("93.184.215.14",),
)


def sender(handler) -> tuple[PinnedHttpSender, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return PinnedHttpSender(transport=httpx.MockTransport(record)), seen


def test_the_request_dials_the_vetted_ip_with_the_original_host_header_and_sni():
    s, seen = sender(lambda r: httpx.Response(204))
    result = s.post(TARGET, b'{"a":1}', {"webhook-id": "msg_1"})
    assert result.ok and result.status_code == 204
    (req,) = seen
    assert req.url.host == "93.184.215.14" and req.url.port == 8443
    assert req.url.raw_path == b"/in?x=1"
    assert req.headers["host"] == "hooks.example.com:8443"
    assert req.extensions["sni_hostname"] == "hooks.example.com"
    assert req.headers["webhook-id"] == "msg_1"
    assert req.headers["content-type"] == "application/json"
    assert req.content == b'{"a":1}'


def test_plain_http_sends_no_sni_and_ipv6_addresses_are_bracketed():
    target = TARGET.__class__(
        **{
            **TARGET.__dict__,
            "scheme": "http",
            "url": "http://hooks.example.com:8443/in",
            "addresses": ("2606:4700::1111",),
        }
    )
    s, seen = sender(lambda r: httpx.Response(200))
    s.post(target, b"{}", {})
    assert "sni_hostname" not in seen[0].extensions
    assert str(seen[0].url).startswith("http://[2606:4700::1111]:8443/")


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt():
    s, seen = sender(lambda r: httpx.Response(302, headers={"location": "http://169.254.169.254/"}))
    result = s.post(TARGET, b"{}", {})
    assert len(seen) == 1
    assert not result.ok and result.status_code == 302
    assert result.error is not None and "not followed" in result.error


def test_the_response_body_read_is_capped():
    s, _ = sender(lambda r: httpx.Response(200, content=b"x" * (MAX_RESPONSE_BYTES * 50)))
    assert len(s.post(TARGET, b"{}", {}).body_excerpt) == MAX_RESPONSE_BYTES


def test_a_timeout_is_an_error_without_status():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    result = sender(slow)[0].post(TARGET, b"{}", {})
    assert result.status_code is None and result.error is not None and "timeout" in result.error


def test_a_refused_connection_tries_the_next_vetted_address():
    def first_down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "93.184.215.14":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200)

    target = TARGET.__class__(**{**TARGET.__dict__, "addresses": ("93.184.215.14", "93.184.215.15")})
    s, seen = sender(first_down)
    assert s.post(target, b"{}", {}).ok
    assert [r.url.host for r in seen] == ["93.184.215.14", "93.184.215.15"]


def test_proxies_from_the_environment_are_ignored(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    s, seen = sender(lambda r: httpx.Response(200))
    s.post(TARGET, b"{}", {})
    assert seen[0].url.host == "93.184.215.14"
    assert s._client._trust_env is False  # type: ignore[attr-defined]
