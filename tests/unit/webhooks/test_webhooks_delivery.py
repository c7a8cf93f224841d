"""Fan-out, idempotent delivery records, claims, the retry schedule with jitter, 410 Gone, the endpoint API."""

from __future__ import annotations

import json
import random
import re

import pytest
from mantra.alerts.webhooks import Outcome, signing
from mantra.alerts.webhooks.models import DeliveryStatus, EndpointStatus, message_id
from mantra.alerts.webhooks.schedule import DEFAULT_DELAYS_S, RetrySchedule
from mantra.errors import Invalid, LimitExceeded, NotFound
from webhook_fakes import user, world

URL = "https://hooks.example.in/tm"


def test_retry_schedule_spreads_attempts_over_hours_within_the_jitter_bounds():
    schedule = RetrySchedule(rng=random.Random(1))
    assert schedule.max_attempts == 7
    assert [schedule.bounds_ms(n) for n in (1, 6)] == [(24_000, 36_000), (23_040_000, 34_560_000)]
    for attempt, base_s in enumerate(DEFAULT_DELAYS_S, start=1):
        delays = [schedule.delay_ms(attempt) for _ in range(500)]
        low, high = base_s * 800, base_s * 1200
        assert all(d is not None and low <= d <= high for d in delays)
        assert len(set(delays)) > 100  # jittered, not one fixed step
    assert schedule.delay_ms(7) is None  # after the 7th attempt we give up


def test_without_jitter_the_attempts_land_at_0s_30s_2m_10m_1h_3h_8h_after_the_previous():
    schedule = RetrySchedule(jitter=0.0)
    assert [schedule.delay_ms(n) for n in range(1, 8)] == [
        30_000, 120_000, 600_000, 3_600_000, 10_800_000, 28_800_000, None,
    ]  # fmt: skip


def test_the_channel_sends_a_signed_event_to_subscribed_active_endpoints_only():
    # Given two endpoints of the tenant, one of another tenant
    w = world()
    pro = user()
    a, secret = w.service.create(pro, URL, "bot", ["alert.triggered"])
    b, _ = w.service.create(pro, "https://bot.example.com/x", "other", ["alert.triggered"])
    w.service.create(user("t_other", "u_other"), URL, "", ["alert.triggered"])
    w.endpoints.disable(pro.tenant_id, b.endpoint_id, "test", 0)
    # When an alert fires
    statuses = w.channel.send(
        pro.tenant_id, "alert.triggered", "evt_1", {"symbol": "RELIANCE", "price": "1290"}
    )
    # Then only the active endpoint of this tenant got it, signed, in the Standard Webhooks envelope
    assert statuses == [f"{a.endpoint_id}:delivered"]
    (sent,) = w.sender.sent
    assert sent.target.host == "hooks.example.in"
    signing.verify(secret, sent.headers, sent.body, now_s=w.clock.now_ms() // 1000)
    envelope = json.loads(sent.body)
    assert envelope["type"] == "alert.triggered" and envelope["data"]["symbol"] == "RELIANCE"
    assert sent.headers["webhook-id"] == message_id("evt_1", a.endpoint_id)


def test_a_redelivered_event_is_not_sent_twice():
    w = world()
    pro = user()
    a, _ = w.service.create(pro, URL, "", ["alert.triggered"])
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    again = w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    assert again == [f"{a.endpoint_id}:duplicate"]
    assert len(w.sender.sent) == 1


def test_an_attempt_is_claimed_once_so_two_overlapping_sweeps_send_it_once():
    # Given a failed first attempt whose retry is now due
    w = world(script=[500])
    pro = user()
    w.service.create(pro, URL, "", ["alert.triggered"])
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    w.clock.advance_s(60)
    # When two sweeps read the same due attempt and both try it
    first_view = w.deliveries.due(w.clock.now_ms(), 10)[0]
    second_view = w.deliveries.due(w.clock.now_ms(), 10)[0]
    outcomes = [w.deliverer.attempt(first_view), w.deliverer.attempt(second_view)]
    # Then only one of them sends
    assert outcomes == [Outcome.RETRY_SCHEDULED, Outcome.SKIPPED]
    assert len(w.sender.sent) == 2  # the inline attempt and one retry, not three


def test_failures_retry_on_schedule_then_succeed_and_the_log_keeps_every_attempt():
    # Given a receiver that fails twice (a 503, then a timeout) and then accepts
    w = world(script=[503, None, 200])
    pro = user()
    a, _ = w.service.create(pro, URL, "", ["alert.triggered"])
    assert w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {}) == [
        f"{a.endpoint_id}:retry_scheduled"
    ]
    (d,) = w.deliveries.items.values()
    assert d.next_attempt_ms is not None and 24_000 <= d.next_attempt_ms - w.clock.now_ms() <= 36_100
    # When the sweep runs before it is due, nothing is sent
    w.clock.advance_s(20)
    assert w.retry.run().due == 0
    # When it runs after each retry time
    w.clock.advance_s(20)
    assert w.retry.run().outcomes == {"retry_scheduled": 1}
    w.clock.advance_s(150)
    assert w.retry.run().outcomes == {"delivered": 1}
    # Then the log has three attempts: 503, a timeout, 200; and nothing is pending
    (done,) = w.service.deliveries(pro, a.endpoint_id)
    assert done.status is DeliveryStatus.SUCCEEDED and done.next_attempt_ms is None
    assert [(x.number, x.status_code) for x in done.attempts] == [(1, 503), (2, None), (3, 200)]
    assert done.attempts[1].error == "timeout (ReadTimeout)"
    assert len({s.headers["webhook-id"] for s in w.sender.sent}) == 1  # same id on every attempt
    assert w.retry.run().due == 0


def test_after_seven_failed_attempts_the_delivery_is_marked_failed():
    w = world(script=[500])
    pro = user()
    w.service.create(pro, URL, "", ["alert.triggered"])
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    for _ in range(10):
        w.clock.advance_s(10 * 3600)
        w.retry.run()
    (d,) = w.deliveries.items.values()
    assert d.status is DeliveryStatus.FAILED and len(d.attempts) == 7 and d.next_attempt_ms is None


def test_410_gone_disables_the_endpoint_and_stops_its_other_retries():
    # Given an endpoint with a pending retry
    w = world(script=[500, 410])
    pro = user()
    a, _ = w.service.create(pro, URL, "", ["alert.triggered"])
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    # When the next event gets 410 Gone
    assert w.channel.send(pro.tenant_id, "alert.triggered", "evt_2", {}) == [
        f"{a.endpoint_id}:endpoint_disabled"
    ]
    # Then the endpoint is disabled with the reason
    endpoint = w.service.get(pro, a.endpoint_id)
    assert endpoint.status is EndpointStatus.DISABLED and "410" in (endpoint.disabled_reason or "")
    # And the first event's retry is cancelled without sending, and new events skip it
    w.clock.advance_s(3600)
    assert w.retry.run().outcomes == {"cancelled": 1}
    assert len(w.sender.sent) == 2
    assert w.channel.send(pro.tenant_id, "alert.triggered", "evt_3", {}) == []
    statuses = {d.event_id: d.status for d in w.deliveries.items.values()}
    assert statuses == {"evt_1": DeliveryStatus.CANCELLED, "evt_2": DeliveryStatus.FAILED}


def test_deleting_an_endpoint_cancels_its_pending_retries():
    w = world(script=[500])
    pro = user()
    a, _ = w.service.create(pro, URL, "", ["alert.triggered"])
    w.channel.send(pro.tenant_id, "alert.triggered", "evt_1", {})
    w.service.delete(pro, a.endpoint_id)
    w.clock.advance_s(3600)
    assert w.retry.run().outcomes == {"cancelled": 1}
    assert len(w.sender.sent) == 1


def test_endpoints_are_tenant_scoped_and_another_tenants_id_is_not_found():
    w = world()
    pro, other = user(), user("t_other", "u_other")
    a, _ = w.service.create(pro, URL, "", ["alert.triggered"])
    for call in (
        lambda: w.service.delete(other, a.endpoint_id),
        lambda: w.service.rotate(other, a.endpoint_id),
        lambda: w.service.test(other, a.endpoint_id),
        lambda: w.service.deliveries(other, a.endpoint_id),
    ):
        with pytest.raises(NotFound):
            call()
    assert w.service.list(other) == []


def test_the_endpoint_count_is_limited_per_tenant():
    w = world()
    pro = user()
    for i in range(10):
        w.service.create(pro, f"{URL}/{i}", "", ["alert.triggered"])
    with pytest.raises(LimitExceeded, match="at most 10"):
        w.service.create(pro, URL, "", ["alert.triggered"])


def test_unknown_event_types_are_refused():
    w = world()
    with pytest.raises(Invalid, match=re.escape("unknown: order.filled")):
        w.service.create(user(), URL, "", ["alert.triggered", "order.filled"])


def test_a_test_event_reaches_the_endpoint_even_when_it_subscribes_to_other_types():
    w = world()
    pro = user()
    a, secret = w.service.create(pro, URL, "", ["alert.triggered"])
    delivery, outcome = w.service.test(pro, a.endpoint_id)
    assert outcome is Outcome.DELIVERED and delivery.status is DeliveryStatus.SUCCEEDED
    assert json.loads(w.sender.sent[0].body)["type"] == "webhook.test"
    signing.verify(secret, w.sender.sent[0].headers, w.sender.sent[0].body, now_s=w.clock.now_ms() // 1000)
