"""A crossing tick -> alert trigger (transaction + outbox) -> stream -> EventBridge -> SQS -> inbox and e-mail."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import put_raw, sqs_bodies, tick, tick_bytes, until
from mantra.catalog import DynamoStreamTrigger, EventTrigger, KinesisTrigger, function
from mantra.clock import SystemClock
from mantra.container import get_container
from mantra.devtools.smtp_sink import read_messages
from mantra.domain import AlertCondition, Channel
from mantra.runtime.pollers import DynamoStreamPoller, KinesisPoller, SqsPoller
from mantra.settings import Settings
from mantra.store.aws import client
from mantra.store.models import OutboxItem
from mantra.store.repositories import DynamoAlertRepository, DynamoUserRepository


def _pollers(settings: Settings, tmp_path: Path) -> tuple[KinesisPoller, DynamoStreamPoller, SqsPoller]:
    tp, relay, dispatch = function("tick_processor"), function("outbox_relay"), function("alert_dispatch")
    return (
        KinesisPoller(settings, tp, next(t for t in tp.triggers if isinstance(t, KinesisTrigger)), tmp_path),
        DynamoStreamPoller(
            settings, relay, next(t for t in relay.triggers if isinstance(t, DynamoStreamTrigger)), tmp_path
        ),
        SqsPoller(settings, dispatch, next(t for t in dispatch.triggers if isinstance(t, EventTrigger))),
    )


def _mails(settings: Settings, trigger_id: str) -> list:
    return [m for m in read_messages(settings.data_dir / "mail") if m["X-Mantra-Trigger-Id"] == trigger_id]


def test_crossing_tick_reaches_inbox_and_email_once(platform: Settings, tmp_path: Path):
    # Given the Pro user's alert: LT crosses above 3,600.00
    container = get_container(platform)
    user = DynamoUserRepository().by_email("pro@demo.trademantra.in")[0]  # type: ignore[index]
    alert = container.alert_service.create(
        user, "LT", AlertCondition.CROSSES_ABOVE, 360_000, (Channel.IN_APP, Channel.EMAIL), "breakout"
    )
    # When LT trades 3,599.90 then 3,600.10 and the pipeline runs
    put_raw(
        client("kinesis", platform.region),
        platform.name("ticks"),
        [("LT", tick_bytes(tick("LT", s, p, token="11483"))) for s, p in ((101, 359_990), (102, 360_010))],
    )
    kin, relay, dispatch = _pollers(platform, tmp_path)
    until(
        lambda: (
            (kin.poll_once() or True)
            and DynamoAlertRepository().get(user.tenant_id, alert.alert_id).status == "triggered"
        )
    )
    fired = DynamoAlertRepository().get(user.tenant_id, alert.alert_id)
    assert fired is not None and fired.trigger_id
    # tick_processor put the event on the bus itself and marked its outbox row (the relay will skip it)
    assert OutboxItem.get(fired.trigger_id).published_ms is not None
    until(lambda: relay.poll_once() is not None and _in_queue(platform))
    until(
        lambda: (
            (dispatch.poll_once() or True)
            and any(n.notification_id == fired.trigger_id for n in container.inbox.list(user))
        )
    )

    # Then the inbox holds it, keyed by the trigger, and one e-mail reached the sink
    inbox = [n for n in container.inbox.list(user) if n.notification_id == fired.trigger_id]
    assert len(inbox) == 1 and "LT crossed above ₹3600.00" in inbox[0].title
    assert inbox[0].data["price"] == "3600.10" and inbox[0].data["previous_price"] == "3599.90"
    mails = until(lambda: _mails(platform, fired.trigger_id))
    assert len(mails) == 1 and mails[0]["To"] == "pro@demo.trademantra.in"


def _in_queue(settings: Settings) -> bool:
    sqs = client("sqs", settings.region)
    url = sqs.get_queue_url(QueueName=settings.name("alert-dispatch"))["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ]
    return int(attrs["ApproximateNumberOfMessages"]) > 0


def test_redelivered_alert_event_notifies_once(platform: Settings, tmp_path: Path):
    # Given the same alert.triggered event delivered twice (EventBridge and SQS are at-least-once)
    user = DynamoUserRepository().by_email("starter@demo.trademantra.in")[0]  # type: ignore[index]
    detail = {
        "event_id": "trg_redelivered_0001",
        "trigger_id": "trg_redelivered_0001",
        "tenant_id": user.tenant_id,
        "user_id": user.user_id,
        "alert_id": "alr_x",
        "symbol": "TCS",
        "condition": "above",
        "level": "3900.00",
        "price": "3901.00",
        "tick_id": "11536-1",
        "tick_ts_ms": SystemClock().now_ms(),
        "channels": ["in_app", "email"],
    }
    body = json.dumps(
        {
            "version": "0",
            "id": "evt-1",
            "detail-type": "alert.triggered",
            "source": "trade-mantra",
            "account": "000000000000",
            "time": "2026-11-23T04:00:00Z",
            "region": platform.region,
            "resources": [],
            "detail": detail,
        }
    )
    sqs = client("sqs", platform.region)
    url = sqs.get_queue_url(QueueName=platform.name("alert-dispatch"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody=body)
    # When alert_dispatch drains the queue
    _, _, dispatch = _pollers(platform, tmp_path)
    for _ in range(30):  # one alert per batch: drain the queue (earlier tests may have left copies in it)
        if not dispatch.poll_once():
            break
    # Then exactly one inbox entry and one e-mail exist for it
    inbox = [
        n for n in get_container(platform).inbox.list(user) if n.notification_id == "trg_redelivered_0001"
    ]
    assert len(inbox) == 1
    assert len(_mails(platform, "trg_redelivered_0001")) == 1


def test_outbox_write_is_transactional_with_the_alert_state(platform: Settings):
    # Given an active alert
    container = get_container(platform)
    user = DynamoUserRepository().by_email("creator@demo.trademantra.in")[0]  # type: ignore[index]
    alert = container.alert_service.create(user, "ITC", AlertCondition.ABOVE, 10_000, (Channel.IN_APP,), None)
    repo = DynamoAlertRepository()
    # When two consumers try to fire it with different triggers
    first = repo.trigger(alert, "trg_race_a", 1, "alert.triggered", {"n": 1})
    second = repo.trigger(alert, "trg_race_b", 2, "alert.triggered", {"n": 2})
    # Then only the first wins, and only its event is in the outbox
    assert (first, second) == (True, False)
    ids = {i.event_id for i in OutboxItem.scan() if i.event_id.startswith("trg_race_")}
    assert ids == {"trg_race_a"}


def test_relay_publishes_the_rows_nobody_published_and_skips_the_marked_ones(
    platform: Settings, tmp_path: Path
):
    # Given two new outbox rows, one of them already published (and marked) by its writer
    outbox, now = get_container(platform).outbox, SystemClock().now_ms()
    for event_id in ("sig_relay_marked", "sig_relay_pending"):
        outbox.put_if_absent(event_id, "signal.detected", {"symbol": "TCS", "n": event_id}, now)
    outbox.mark_published(["sig_relay_marked"], now)
    assert outbox.published(["sig_relay_marked", "sig_relay_pending", "sig_relay_absent"]) == {
        "sig_relay_marked"
    }
    # When the relay reads the stream (the bus routes signal.detected to the signal-alerts queue)
    _, relay, _ = _pollers(platform, tmp_path)
    sqs = client("sqs", platform.region)
    url = sqs.get_queue_url(QueueName=platform.name("signal-alerts"))["QueueUrl"]
    seen: list[str] = []

    def pending_arrived() -> bool:
        relay.poll_once()
        seen.extend(b["detail"]["event_id"] for b in sqs_bodies(sqs, url))
        return "sig_relay_pending" in seen

    until(pending_arrived)
    # Then only the unmarked row went on the bus, once
    relay.poll_once()
    seen.extend(b["detail"]["event_id"] for b in sqs_bodies(sqs, url))
    assert seen.count("sig_relay_pending") == 1 and "sig_relay_marked" not in seen
