"""Webhooks against DynamoDB Local and a real HTTP receiver on 127.0.0.1: signatures, retries through
webhook_retry's service with a moved clock, 410 Gone, and the delivery log over the API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import timebase
from fastapi.testclient import TestClient
from mantra.alerts.webhooks import signing
from mantra.clock import ManualClock
from mantra.container import Container
from mantra.settings import Settings

from frontend_api.app import create_app


@dataclass
class Receiver:
    """Per path: a list of status codes answered in turn (the last repeats); every request is kept."""

    port: int
    script: dict[str, list[int]] = field(default_factory=dict)
    received: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            got = state.received.setdefault(self.path, [])
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            codes = state.script.get(self.path, [200])
            self.send_response(codes[min(len(got) - 1, len(codes) - 1)])
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Api:
    client: TestClient
    container: Container
    clock: ManualClock

    def auth(self, email: str = "pro@demo.trademantra.in") -> dict[str, str]:
        resp = self.client.post("/auth/token", data={"username": email, "password": "mantra-demo"})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
def api(platform: Settings) -> Api:
    # The session's Settings came from env at start; loopback receivers are allowed explicitly here.
    settings = platform.model_copy(update={"webhook_allowed_networks": ("127.0.0.0/8",)})
    clock = ManualClock(timebase.NOW_MS)
    container = Container(settings, clock)
    return Api(TestClient(create_app(settings, container)), container, clock)


def _register(api: Api, receiver: Receiver, path: str, headers: dict[str, str]) -> tuple[str, str]:
    resp = api.client.post(
        "/api/webhooks",
        json={"url": receiver.url(path), "description": path, "event_types": ["alert.triggered"]},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["endpoint_id"], resp.json()["secret"]


def _cleanup(api: Api, headers: dict[str, str]) -> None:
    for e in api.client.get("/api/webhooks", headers=headers).json():
        api.client.delete(f"/api/webhooks/{e['endpoint_id']}", headers=headers)


def test_an_alert_event_reaches_a_real_receiver_signed_and_once(api: Api, receiver: Receiver):
    # Given the Pro user's endpoint on a local receiver, registered over the API
    pro = api.auth()
    _cleanup(api, pro)
    endpoint_id, secret = _register(api, receiver, "/ok", pro)
    tenant = api.container.users.by_email("pro@demo.trademantra.in")[0].tenant_id  # type: ignore[index]
    # When alert delivery hands the event to the webhook channel, twice (a redelivered message)
    payload: dict[str, object] = {"symbol": "RELIANCE", "price": "1290.05", "alert_id": "al_1"}
    first = api.container.webhook_channel.send(tenant, "alert.triggered", "evt_it_ok", payload)
    second = api.container.webhook_channel.send(tenant, "alert.triggered", "evt_it_ok", payload)
    # Then the receiver got it once, and its signature verifies with the secret shown at registration
    assert first == [f"{endpoint_id}:delivered"] and second == [f"{endpoint_id}:duplicate"]
    ((headers, body),) = receiver.received["/ok"]
    signing.verify(secret, headers, body, now_s=int(headers["webhook-timestamp"]))
    assert headers["host"] == f"127.0.0.1:{receiver.port}"
    assert json.loads(body)["data"] == payload
    # And the list never shows the secret again
    listed = api.client.get("/api/webhooks", headers=pro).json()
    assert [e["endpoint_id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]
    assert secret not in json.dumps(listed)


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt_via_the_retry_sweep(
    api: Api, receiver: Receiver
):
    # Given a receiver that answers 500, 503, then 200 (tokens first: the dev issuer reads the moved clock)
    pro, other = api.auth(), api.auth("creator@demo.trademantra.in")  # Elite: has webhooks, another tenant
    starter = api.auth("starter@demo.trademantra.in")  # Starter: no webhooks
    _cleanup(api, pro)
    receiver.script["/flaky"] = [500, 503, 200]
    endpoint_id, secret = _register(api, receiver, "/flaky", pro)
    tenant = api.container.users.by_email("pro@demo.trademantra.in")[0].tenant_id  # type: ignore[index]
    # When the event is sent and webhook_retry's service runs as the clock passes each retry time
    assert api.container.webhook_channel.send(tenant, "alert.triggered", "evt_it_flaky", {"n": 1}) == [
        f"{endpoint_id}:retry_scheduled"
    ]
    retry = api.container.webhook_retry
    assert retry.run().outcomes.get("retry_scheduled") is None  # not due yet
    api.clock.advance_s(40)
    assert retry.run().outcomes.get("retry_scheduled") == 1
    api.clock.advance_s(150)
    assert retry.run().outcomes.get("delivered") == 1
    # Then three requests arrived with the same webhook-id, each verifiable
    got = receiver.received["/flaky"]
    assert len(got) == 3 and len({h["webhook-id"] for h, _ in got}) == 1
    for headers, body in got:
        signing.verify(secret, headers, body, now_s=int(headers["webhook-timestamp"]))
    # And the delivery log over the API shows every attempt, newest delivery first
    resp = api.client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=pro)
    assert resp.status_code == 200, resp.text
    (delivery,) = resp.json()
    assert delivery["status"] == "succeeded" and delivery["next_retry_at"] is None
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempts"]] == [(1, 500), (2, 503), (3, 200)]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])
    # And another tenant's user gets 404 for the same endpoint
    assert api.client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=other).status_code == 404
    assert api.client.post(f"/api/webhooks/{endpoint_id}/rotate", headers=other).status_code == 404
    assert api.client.delete(f"/api/webhooks/{endpoint_id}", headers=other).status_code == 404
    # And a Starter user, whose plan has no webhooks, is told which plan has them
    refused = api.client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=starter)
    assert refused.status_code == 403
    assert "webhooks needs the Trader plan or higher (you are on Starter)" in refused.json()["detail"]


def test_a_410_gone_receiver_disables_its_endpoint(api: Api, receiver: Receiver):
    pro = api.auth()
    _cleanup(api, pro)
    receiver.script["/gone"] = [410]
    endpoint_id, _ = _register(api, receiver, "/gone", pro)
    # When the test event is sent
    resp = api.client.post(f"/api/webhooks/{endpoint_id}/test", headers=pro)
    assert resp.status_code == 200, resp.text
    assert resp.json()["outcome"] == "endpoint_disabled"
    assert resp.json()["delivery"]["attempts"][0]["status_code"] == 410
    # Then the endpoint is disabled and no longer receives events
    (listed,) = api.client.get("/api/webhooks", headers=pro).json()
    assert listed["status"] == "disabled" and "410" in listed["disabled_reason"]
    tenant = api.container.users.by_email("pro@demo.trademantra.in")[0].tenant_id  # type: ignore[index]
    assert api.container.webhook_channel.send(tenant, "alert.triggered", "evt_it_gone", {}) == []
    assert len(receiver.received["/gone"]) == 1


def test_rotation_over_the_api_returns_a_new_secret_once_and_both_sign(api: Api, receiver: Receiver):
    pro = api.auth()
    _cleanup(api, pro)
    endpoint_id, old = _register(api, receiver, "/rotated", pro)
    resp = api.client.post(f"/api/webhooks/{endpoint_id}/rotate", headers=pro)
    assert resp.status_code == 200, resp.text
    new = resp.json()["secret"]
    assert new != old and resp.json()["previous_secret_expires_at"] is not None
    assert api.client.post(f"/api/webhooks/{endpoint_id}/test", headers=pro).json()["outcome"] == "delivered"
    ((headers, body),) = receiver.received["/rotated"]
    for secret in (old, new):
        signing.verify(secret, headers, body, now_s=int(headers["webhook-timestamp"]))


def test_registration_refuses_internal_urls_with_the_reason(api: Api):
    pro = api.auth()
    for url in ("http://169.254.169.254/latest/meta-data/", "http://0x7f000001/", "ftp://example.com/"):
        resp = api.client.post(
            "/api/webhooks", json={"url": url, "event_types": ["alert.triggered"]}, headers=pro
        )
        assert resp.status_code == 422, (url, resp.text)
    resp = api.client.post(
        "/api/webhooks", json={"url": "http://10.1.2.3/x", "event_types": ["alert.triggered"]}, headers=pro
    )
    assert "private" in resp.json()["detail"]


def test_the_webhook_retry_function_runs_on_its_sample_schedule_event(platform: Settings):
    # Given the catalog's webhook_retry and its sample EventBridge Scheduler payload
    from pathlib import Path

    from mantra.catalog import function
    from mantra.runtime.invoke import invoke

    sample = Path(__file__).resolve().parents[2] / "events" / "samples" / "webhook_retry.json"
    # When the handler runs as Lambda would run it
    report = invoke(function("webhook_retry"), json.loads(sample.read_text()))
    # Then it answers with the sweep's report (nothing is due in this session by now)
    assert set(report) == {"due", "outcomes"}
