"""Alert rules over the API, SMS and push through SNS (moto), recurring cooldowns in DynamoDB, DLQ redrive."""

from __future__ import annotations

import json

import pytest
import timebase
from fastapi.testclient import TestClient
from mantra.alerts.dispatch import AlertTriggered, ChannelsFailed
from mantra.clock import SystemClock
from mantra.container import get_container
from mantra.domain import AlertCondition, Channel, Preferences
from mantra.settings import Settings
from mantra.store.aws import client
from mantra.store.queues import dead_letter_queues, redrive
from mantra.store.repositories import DynamoAlertRepository, DynamoUserRepository


@pytest.fixture(scope="module")
def api(platform: Settings) -> TestClient:
    from frontend_api.app import create_app

    return TestClient(create_app(platform))


def _auth(api: TestClient, email: str) -> dict[str, str]:
    token = api.post("/auth/token", data={"username": email, "password": "mantra-demo"}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_rules_are_created_changed_paused_and_resumed_over_the_api(api: TestClient):
    h = _auth(api, "creator@demo.trademantra.in")
    # Given a recurring 2.5 % drop rule, market hours only
    created = api.post(
        "/api/alerts",
        headers=h,
        json={
            "symbol": "sbin",
            "condition": "change_pct_below",
            "change_pct": "2.5",
            "window": "1d",
            "channels": ["in_app", "sms"],
            "recurring": True,
            "cooldown_minutes": 30,
            "market_hours_only": True,
        },
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["symbol"], rule["change_pct"], rule["cooldown_minutes"]) == ("SBIN", "2.5", 30)
    # When it is paused, changed and resumed
    paused = api.patch(f"/api/alerts/{rule['alert_id']}", headers=h, json={"status": "paused"}).json()
    changed = api.patch(f"/api/alerts/{rule['alert_id']}", headers=h, json={"change_pct": "3"}).json()
    resumed = api.patch(f"/api/alerts/{rule['alert_id']}", headers=h, json={"status": "active"}).json()
    # Then each answer shows it, and only the active state is watched by the streaming index
    assert (paused["status"], changed["change_pct"], resumed["status"]) == ("paused", "3", "active")
    assert rule["alert_id"] in {
        a.alert_id for a in DynamoAlertRepository().active_for_symbols(["SBIN"])["SBIN"]
    }
    # And bad changes say which field is wrong
    bad = api.patch(f"/api/alerts/{rule['alert_id']}", headers=h, json={"status": "triggered"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    missing = api.post("/api/alerts", headers=h, json={"symbol": "SBIN", "condition": "volume_spike"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "volume_multiple"
    other = _auth(api, "starter@demo.trademantra.in")
    assert api.patch(f"/api/alerts/{rule['alert_id']}", headers=other, json={"note": "x"}).status_code == 404


def test_preferences_and_push_devices_round_trip(api: TestClient):
    h = _auth(api, "pro@demo.trademantra.in")
    bad = api.put("/api/me/preferences", headers=h, json={"sms": True, "phone_e164": "98765"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone_e164"
    # a new number is not taken from the preferences: it is verified first (POST /api/me/phone)
    unverified = api.put("/api/me/preferences", headers=h, json={"sms": True, "phone_e164": "+919876543210"})
    assert unverified.status_code == 422 and unverified.json()["errors"][0]["field"] == "phone_e164"
    saved = api.put(
        "/api/me/preferences", headers=h, json={"sms": True, "quiet_start": "22:00", "quiet_end": "07:00"}
    ).json()
    assert saved["phone_verified"] is False and saved["quiet_channels"] == ["sms", "push", "email"]
    device = api.post("/api/me/devices", headers=h, json={"token": "fcm-token-for-a-test-phone"})
    assert device.status_code == 201
    prefs = api.get("/api/me/preferences", headers=h).json()
    assert prefs["devices"] == 1 and prefs["push"] is True
    assert api.delete(f"/api/me/devices/{device.json()['device_id']}", headers=h).status_code == 204
    assert api.get("/api/me/preferences", headers=h).json()["devices"] == 0
    api.put("/api/me/preferences", headers=h, json={})  # back to defaults for the other tests


def test_sms_and_push_go_out_through_sns_and_a_bad_number_fails_alone(platform: Settings):
    services = get_container(platform)
    users = DynamoUserRepository()
    admin = users.by_email("admin@demo.trademantra.in")[0]  # type: ignore[index]
    endpoint = services.sns.register_device("fcm-token-admin-phone-000000")
    users.save_preferences(
        admin.user_id,
        Preferences(
            sms=True,
            push=True,
            phone_e164="+919812345678",
            phone_verified_ms=SystemClock().now_ms(),
            push_endpoints=(endpoint,),
        ),
    )

    def event(trigger: str) -> AlertTriggered:
        return AlertTriggered(
            event_id=trigger,
            trigger_id=trigger,
            tenant_id=admin.tenant_id,
            user_id=admin.user_id,
            alert_id="a",
            symbol="TCS",
            condition="above",
            level="1.00",
            price="3900.00",
            tick_id="t",
            tick_ts_ms=SystemClock().now_ms(),
            channels=[Channel.IN_APP, Channel.SMS, Channel.PUSH],
        )

    report = services.dispatcher.deliver(event("trg_sns_ok"))
    assert report.delivered == ["in_app", "sms", "push"]
    # a number SNS refuses fails the SMS only; push still goes
    users.save_preferences(
        admin.user_id,
        Preferences(sms=True, push=True, phone_e164="+0000", phone_verified_ms=1, push_endpoints=(endpoint,)),
    )
    with pytest.raises(ChannelsFailed) as failed:
        services.dispatcher.deliver(event("trg_sns_bad"))
    assert failed.value.report.failed == ["sms"] and "push" in failed.value.report.delivered


def test_recurring_alert_cooldown_is_enforced_by_the_table(platform: Settings):
    services = get_container(platform)
    user = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    alert = services.alert_service.create(
        user, "HDFCBANK", AlertCondition.ABOVE, 100, (Channel.IN_APP,), None, recurring=True, cooldown_s=600
    )
    repo = DynamoAlertRepository()
    t0 = timebase.SESSION_10AM
    assert repo.trigger(alert, "trg_rec_1", t0, "alert.triggered", {}) is True
    assert repo.trigger(alert, "trg_rec_2", t0 + 599_000, "alert.triggered", {}) is False  # cooling down
    assert repo.trigger(alert, "trg_rec_3", t0 + 600_000, "alert.triggered", {}) is True
    after = repo.get(user.tenant_id, alert.alert_id)
    assert after is not None and after.status.value == "active" and after.trigger_count == 2


def test_dead_lettered_alert_messages_are_redriven_to_their_queue(platform: Settings):
    sqs = client("sqs", platform.region)
    dlq = sqs.get_queue_url(QueueName=platform.name("alert-dispatch-dlq"))["QueueUrl"]
    src = sqs.get_queue_url(QueueName=platform.name("alert-dispatch"))["QueueUrl"]
    sqs.purge_queue(QueueUrl=src)
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"dead": "letter"}))
    counts = {d.name: d.messages for d in dead_letter_queues(platform)}
    assert counts["alert-dispatch-dlq"] >= 1
    assert redrive(platform, "alert-dispatch-dlq") >= 1
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert json.dumps({"dead": "letter"}) in bodies
    with pytest.raises(ValueError, match="cannot be redriven"):
        redrive(platform, "tick_processor-failures")


def test_expression_pattern_and_scanner_rules_over_the_api_and_their_evaluation(
    api: TestClient, platform: Settings
):
    from datetime import UTC, datetime

    from mantra.alerts.scheduled import SignalDetected
    from mantra.store.models import OutboxItem

    h = _auth(api, "creator@demo.trademantra.in")
    # A bad expression says where; an unknown pattern suggests the nearest name
    bad = api.post(
        "/api/alerts",
        headers=h,
        json={"symbol": "INFY", "condition": "expression", "expression": "rsi(14 < 30"},
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("expression: line 1, col")
    typo = api.post(
        "/api/alerts",
        headers=h,
        json={"symbol": "INFY", "condition": "pattern", "pattern": "bulish engulfing"},
    )
    assert typo.status_code == 422 and "bullish_engulfing" in typo.json()["detail"]
    # An always-true expression rule fires on the next scheduled check, once per bar
    rule = api.post(
        "/api/alerts",
        headers=h,
        json={"symbol": "INFY", "condition": "expression", "expression": "close > 0", "timeframe": "1d"},
    ).json()
    services = get_container(platform)
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    first = services.scheduled_alerts.run(at)
    assert first.fired >= 1
    fired = api.get(f"/api/alerts/{rule['alert_id']}", headers=h).json()
    assert fired["status"] == "triggered" and fired["trigger_count"] == 1
    # A scanner rule needs one of your own scanners, then follows its hits
    assert (
        api.post(
            "/api/alerts",
            headers=h,
            json={"symbol": "*", "condition": "scanner_hit", "scanner_id": "scn_not_mine"},
        ).status_code
        == 422
    )
    scanner = api.post(
        "/api/scanners",
        headers=h,
        json={"name": "Up days", "expression": "close > open", "universe": "demo", "timeframe": "1d"},
    )
    assert scanner.status_code == 201, scanner.text
    sid = scanner.json()["scanner_id"]
    follow = api.post(
        "/api/alerts", headers=h, json={"symbol": "*", "condition": "scanner_hit", "scanner_id": sid}
    )
    assert follow.status_code == 201, follow.text
    creator = DynamoUserRepository().by_email("creator@demo.trademantra.in")[0]  # type: ignore[index]
    signal = SignalDetected(
        event_id="sig_it_1",
        scanner_id=sid,
        tenant_id=creator.tenant_id,
        symbol="TCS",
        price="3901.50",
        detected_ms=timebase.SESSION_10AM,
    )
    assert services.signal_alerts.match(signal) == 1
    events = [
        i
        for i in OutboxItem.scan()
        if i.detail_type == "alert.triggered" and i.detail.get("alert_id") == follow.json()["alert_id"]
    ]
    assert len(events) == 1 and events[0].detail["symbol"] == "TCS" and events[0].detail["price"] == "3901.50"
