"""Tables, streams, TTL, queues and secrets are provisioned from the catalog and the models."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from mantra.catalog import function
from mantra.devtools import bootstrap
from mantra.runtime.invoke import invoke
from mantra.runtime.lambda_events import http_event
from mantra.settings import Settings
from mantra.store.aws import client, read_secret
from mantra.store.tables import table_specs


def test_every_model_has_its_table_with_streams_and_ttl_as_declared(platform: Settings):
    ddb = client("dynamodb", platform.region)
    for spec in table_specs():
        desc = ddb.describe_table(TableName=platform.name(spec.base_name))["Table"]
        assert desc["KeySchema"][0]["AttributeName"] == spec.partition_key.name
        if spec.stream_view_type:
            assert desc["StreamSpecification"]["StreamViewType"] == spec.stream_view_type
        if spec.ttl_attribute:
            ttl = ddb.describe_time_to_live(TableName=platform.name(spec.base_name))["TimeToLiveDescription"]
            assert ttl["AttributeName"] == spec.ttl_attribute


def test_provisioning_twice_changes_nothing(platform: Settings):
    assert bootstrap.provision(platform)["tables_created"] == []
    assert bootstrap.seed(platform)["users"] == 5


def _signed(payload: bytes, secret: str, ts: int) -> str:
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={sig}"


def test_stripe_webhook_function_verifies_and_records_once(platform: Settings):
    # Given a Stripe event signed with the endpoint secret held in Secrets Manager
    secret = read_secret(platform, "stripe")["webhook_secret"]
    payload = json.dumps(
        {
            "id": "evt_it_1",
            "type": "invoice.paid",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {"id": "in_it_1", "object": "invoice", "customer": "cus_it_nobody"}},
        }
    ).encode()
    now = int(time.time())
    spec = function("stripe_webhook")

    def post(body: bytes, signature: str) -> dict:
        return invoke(spec, http_event("POST", "/webhooks/stripe", {"stripe-signature": signature}, "", body))

    # When it arrives, then again, then tampered, stale and future-dated
    first, again = post(payload, _signed(payload, secret, now)), post(payload, _signed(payload, secret, now))
    tampered = post(payload.replace(b"invoice.paid", b"invoice.void"), _signed(payload, secret, now))
    stale = post(payload, _signed(payload, secret, now - 400))
    future = post(payload, _signed(payload, secret, now + 400))
    # Then it is recorded once and every forgery is refused with a reason
    assert first["statusCode"] == 200 and json.loads(first["body"])["duplicate"] is False
    assert again["statusCode"] == 200 and json.loads(again["body"])["duplicate"] is True
    for resp in (tampered, stale, future):
        assert resp["statusCode"] == 400
    assert "future" in json.loads(future["body"])["detail"]
    assert base64  # http_event may base64 binary bodies; text bodies pass through
