"""`mantra stripe trigger` signs like Stripe and posts to a real HTTP receiver that verifies with the platform's
own verifier; bad input fails clearly (exit code != 0, no traceback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mantra.billing.webhook import verify
from mantra.cli.main import app
from mantra.devtools.standins import free_port
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

SECRET = "whsec_cli_test"


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            event = verify(body, self.headers.get("Stripe-Signature"), SECRET, int(time.time()))
        except Exception as exc:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(exc).encode())
            return
        self.received.append(event)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received": true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe", _Receiver.received
    server.shutdown()


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["stripe", *args])


@pytest.mark.parametrize(
    ("event_type", "object_kind"),
    [
        ("checkout.session.completed", "checkout.session"),
        ("customer.subscription.created", "subscription"),
        ("customer.subscription.updated", "subscription"),
        ("customer.subscription.deleted", "subscription"),
        ("customer.subscription.trial_will_end", "subscription"),
        ("invoice.paid", "invoice"),
        ("invoice.payment_failed", "invoice"),
    ],
)
def test_trigger_posts_an_event_the_platform_verifier_accepts(
    receiver: tuple[str, list[dict[str, Any]]], event_type: str, object_kind: str
) -> None:
    url, received = receiver
    result = _run(
        "trigger", event_type, "--tenant", "t-1", "--plan", "trader", "--url", url, "--secret", SECRET
    )
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output
    (event,) = received
    obj = event["data"]["object"]
    assert (event["type"], obj["object"]) == (event_type, object_kind)
    assert obj["metadata"] == {"tenant_id": "t-1", "plan_id": "trader"}
    if object_kind == "subscription":
        assert obj["id"] == "sub_local_t-1"
        assert obj["items"]["data"][0]["price"]["lookup_key"] == "trader_monthly"
    if object_kind == "invoice":
        assert obj["amount_due"] == 99900 and obj["subscription"] == "sub_local_t-1"


def test_unknown_event_types_are_sent_as_such(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    result = _run(
        "trigger", "radar.early_fraud_warning.created", "--tenant", "t-1", "--url", url, "--secret", SECRET
    )
    assert result.exit_code == 0, result.output
    assert received[0]["type"] == "radar.early_fraud_warning.created"


def test_a_rejected_signature_exits_non_zero_and_shows_the_reason(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, _ = receiver
    result = _run("trigger", "invoice.paid", "--tenant", "t-1", "--url", url, "--secret", "whsec_wrong")
    assert result.exit_code == 1
    assert "HTTP 400" in result.output and "signature verification failed" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "t-1", "--plan", "prro"], "did you mean 'pro'"),
        (["--tenant", "t-1", "--plan", "starter"], "is free"),
        ([], "exactly one of --tenant"),
    ],
)
def test_bad_input_is_a_clear_error_without_traceback(args: list[str], message: str) -> None:
    result = _run("trigger", "invoice.paid", *args, "--secret", SECRET)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_platform_not_running_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/webhooks/stripe"
    result = _run("trigger", "invoice.paid", "--tenant", "t-1", "--url", url, "--secret", SECRET)
    assert result.exit_code == 1
    assert "is `make run` up?" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_dry_run_prints_the_event_and_sends_nothing(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    result = _run("trigger", "invoice.paid", "--tenant", "t-1", "--url", url, "--dry-run")
    assert result.exit_code == 0 and '"invoice.paid"' in result.output
    assert received == []
