"""Standard Webhooks signatures: the published vector, round trips, tampering, rotation overlap."""

from __future__ import annotations

import base64

import pytest
from mantra.alerts.webhooks import signing
from mantra.alerts.webhooks.signing import VerificationError
from webhook_fakes import user, world

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_reproduces_the_standard_webhooks_published_vector():
    assert signing.signature(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_the_published_vector_among_several_signatures():
    headers = {
        "Webhook-Id": SPEC_ID,
        "Webhook-Timestamp": str(SPEC_TS),
        "Webhook-Signature": f"v1,bm9wZQ== {SPEC_SIGNATURE}",
    }
    signing.verify(SPEC_SECRET, headers, SPEC_BODY, now_s=SPEC_TS + 10)


def test_generated_secret_is_whsec_and_24_random_bytes():
    a, b = signing.generate_secret(), signing.generate_secret()
    assert a.startswith("whsec_") and a != b
    assert len(base64.b64decode(a.removeprefix("whsec_"))) == 24


def test_round_trip_verifies_and_any_tampering_fails():
    secret = signing.generate_secret()
    body = b'{"type":"alert.triggered","data":{"symbol":"RELIANCE"}}'
    headers = signing.sign_headers([secret], "msg_1", 1_795_400_000, body)
    signing.verify(secret, headers, body, now_s=1_795_400_000)
    tampered = [
        (headers, body.replace(b"RELIANCE", b"TCS")),
        ({**headers, "webhook-id": "msg_2"}, body),
        ({**headers, "webhook-timestamp": "1795400001"}, body),
        (headers, body + b" "),
    ]
    for h, b in tampered:
        with pytest.raises(VerificationError):
            signing.verify(secret, h, b, now_s=1_795_400_000)
    with pytest.raises(VerificationError, match="no signature"):
        signing.verify(signing.generate_secret(), headers, body, now_s=1_795_400_000)


def test_verify_rejects_a_replay_outside_the_tolerance_and_missing_headers():
    secret = signing.generate_secret()
    headers = signing.sign_headers([secret], "msg_1", 1_000_000, b"{}")
    with pytest.raises(VerificationError, match="tolerance"):
        signing.verify(secret, headers, b"{}", now_s=1_000_000 + 301)
    with pytest.raises(VerificationError, match="missing header webhook-signature"):
        signing.verify(secret, {"webhook-id": "x", "webhook-timestamp": "1"}, b"{}", now_s=1)


def test_rotation_signs_with_both_secrets_for_24_hours_then_only_the_new_one():
    # Given an endpoint whose secret was rotated
    w = world()
    pro = user()
    endpoint, old = w.service.create(pro, "https://hooks.example.in/tm", "bot", ["alert.triggered"])
    _, new = w.service.rotate(pro, endpoint.endpoint_id)
    assert new != old
    # When an event is sent during the overlap
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {"symbol": "RELIANCE"})
    sent = w.sender.sent[-1]
    # Then two signatures travel and a receiver holding either secret accepts it
    assert len(sent.headers["webhook-signature"].split(" ")) == 2
    now_s = w.clock.now_ms() // 1000
    signing.verify(old, sent.headers, sent.body, now_s=now_s)
    signing.verify(new, sent.headers, sent.body, now_s=now_s)
    # And after 24 hours only the new secret signs
    w.clock.advance_s(24 * 3600 + 1)
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_2", {"symbol": "TCS"})
    later = w.sender.sent[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    signing.verify(new, later.headers, later.body, now_s=w.clock.now_ms() // 1000)
    with pytest.raises(VerificationError):
        signing.verify(old, later.headers, later.body, now_s=w.clock.now_ms() // 1000)


def test_a_second_rotation_drops_the_oldest_secret_at_its_original_expiry():
    w = world()
    pro = user()
    endpoint, first = w.service.create(pro, "https://hooks.example.in/tm", "", ["alert.triggered"])
    _, second = w.service.rotate(pro, endpoint.endpoint_id)
    w.clock.advance_s(3600)
    rotated, third = w.service.rotate(pro, endpoint.endpoint_id)
    # the first keeps its original expiry (24 h after the first rotation), the second gets a fresh 24 h
    expiries = {s.secret: s.expires_ms for s in rotated.secrets}
    assert expiries[third] is None
    assert expiries[second] == w.clock.now_ms() + 24 * 3600 * 1000
    assert expiries[first] == w.clock.now_ms() - 3600 * 1000 + 24 * 3600 * 1000
