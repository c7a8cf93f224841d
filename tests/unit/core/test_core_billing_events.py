"""Stripe webhook signatures: verified on the raw body (forged, tampered, stale, future refused)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from mantra.billing.webhook import verify
from mantra.errors import Invalid

SECRET = "whsec_test_secret"
EVENT = {"id": "evt_1", "type": "invoice.paid", "created": 1_790_000_000, "livemode": False}


def _sign(payload: bytes, ts: int, secret: str = SECRET) -> str:
    """What Stripe sends: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">."""
    mac = hmac.new(secret.encode(), f"{ts}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@pytest.fixture
def now_s() -> int:
    return int(time.time())


def test_a_correctly_signed_event_verifies(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    assert verify(payload, _sign(payload, now_s), SECRET, now_s) == EVENT


def test_a_signature_made_with_another_secret_is_refused(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    with pytest.raises(Invalid, match="signature verification failed"):
        verify(payload, _sign(payload, now_s, secret="whsec_attacker"), SECRET, now_s)


def test_a_body_changed_after_signing_is_refused(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    tampered = json.dumps({**EVENT, "type": "customer.subscription.deleted"}).encode()
    with pytest.raises(Invalid, match="signature verification failed"):
        verify(tampered, _sign(payload, now_s), SECRET, now_s)


def test_a_signature_older_than_five_minutes_is_refused(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    with pytest.raises(Invalid, match="older than 300 s"):
        verify(payload, _sign(payload, now_s - 301), SECRET, now_s)
    assert verify(payload, _sign(payload, now_s - 290), SECRET, now_s)["id"] == "evt_1"


def test_a_future_dated_signature_is_refused(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    with pytest.raises(Invalid, match="in the future"):
        verify(payload, _sign(payload, now_s + 301), SECRET, now_s)
    assert verify(payload, _sign(payload, now_s + 60), SECRET, now_s)["type"] == "invoice.paid"


@pytest.mark.parametrize(
    ("header", "message"),
    [(None, "missing"), ("", "missing"), ("t=abc,v1=00", "malformed"), ("v1=00", "malformed")],
)
def test_a_missing_or_malformed_signature_header_is_refused(now_s, header, message) -> None:
    with pytest.raises(Invalid, match=message):
        verify(json.dumps(EVENT).encode(), header, SECRET, now_s)


def test_a_header_without_a_v1_signature_is_refused(now_s) -> None:
    payload = json.dumps(EVENT).encode()
    v0_only = _sign(payload, now_s).replace("v1=", "v0=")
    with pytest.raises(Invalid, match="no v1 signature"):
        verify(payload, v0_only, SECRET, now_s)


@pytest.mark.parametrize("body", [b"not json", b'{"object": "event"}', b'{"id": 1, "type": "x"}'])
def test_a_signed_body_that_is_not_a_stripe_event_is_refused(now_s, body) -> None:
    with pytest.raises(Invalid, match="not"):
        verify(body, _sign(body, now_s), SECRET, now_s)


def test_staleness_is_judged_against_the_given_now_not_the_wall_clock(now_s) -> None:
    # Given the service's clock reads an hour after the signature was made
    payload = json.dumps(EVENT).encode()
    header = _sign(payload, now_s)
    # When verified at that clock time / Then it is refused as stale
    with pytest.raises(Invalid):
        verify(payload, header, SECRET, now_s + 3600)


def test_a_body_that_is_not_utf8_is_refused_as_invalid(now_s) -> None:
    with pytest.raises(Invalid):
        verify(b"\xff\xfe{}", f"t={now_s},v1=00", SECRET, now_s)
