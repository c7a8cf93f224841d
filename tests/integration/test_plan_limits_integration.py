"""plan_limits against DynamoDB Local: the notifications table keys a note by its time and id, so only a note
time derived from the event makes a late redelivery address the same inbox item."""

from __future__ import annotations

import time

import pytest
from mantra.alerts.plan_limits import PlanChanged
from mantra.auth.passwords import hash_password
from mantra.container import Container
from mantra.domain import AlertCondition, AlertStatus, Channel, Role, User
from mantra.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def container(platform: Settings) -> Container:
    from mantra.container import get_container

    return get_container(platform)


def _move(container: Container, user: User, plan_id: str) -> User:
    """What the billing change does in the transaction that writes its plan.changed: the users move first."""
    moved = user.model_copy(update={"plan_id": plan_id})
    container.users.put(moved, hash_password("it-password"), container.clock.now_ms())
    return moved


def _pro_user_with_alerts(container: Container, name: str, alerts: int) -> User:
    """A new tenant's Pro user with ``alerts`` active INFY price alerts."""
    tenant = f"tnt_it_plan_{name}_{time.time_ns()}"
    user = User(
        user_id=f"usr_{tenant}",
        email=f"{tenant}@it.trademantra.in",
        name=tenant,
        tenant_id=tenant,
        roles=frozenset({Role.TRADER}),
        plan_id="pro",
    )
    container.users.put(user, hash_password("it-password"), container.clock.now_ms())
    for i in range(alerts):
        container.alert_service.create(
            user, "INFY", AlertCondition.ABOVE, 200_000 + i, (Channel.IN_APP,), None
        )
    return user


def test_a_cancellation_redelivered_after_the_new_subscription_leaves_the_alerts_active_and_one_note_each_way(
    container: Container,
) -> None:
    # Given a Pro user with seven active alerts (Starter allows five)
    user = _pro_user_with_alerts(container, "race", 7)
    tenant = user.tenant_id
    # And the subscription cancelled (-> Starter), then taken again (-> Pro), each event applied once
    user = _move(container, user, "starter")
    cancelled = PlanChanged(
        event_id=f"plan:{tenant}:starter:v1",
        tenant_id=tenant,
        plan_id="starter",
        user_ids=(user.user_id,),
        changed_ms=container.clock.now_ms(),
    )
    assert len(container.plan_limits.apply(cancelled).paused) == 2
    user = _move(container, user, "pro")
    subscribed = cancelled.model_copy(
        update={"event_id": f"plan:{tenant}:pro:v2", "plan_id": "pro", "changed_ms": container.clock.now_ms()}
    )
    assert len(container.plan_limits.apply(subscribed).resumed) == 2
    # When both are delivered again later (the queue's redelivery), the older first
    time.sleep(0.01)
    stale = container.plan_limits.apply(cancelled)
    time.sleep(0.01)
    again = container.plan_limits.apply(subscribed)
    # Then nothing moves, every alert is active, and the user has one note each way
    assert (stale.superseded_by, stale.paused, again.resumed) == ("pro", [], [])
    assert {a.status for a in container.alerts.list(tenant)} == {AlertStatus.ACTIVE}
    titles = sorted(n.title for n in container.inbox.list(user) if n.kind.startswith("alerts."))
    assert titles == ["2 alerts active again", "2 alerts paused"]


def test_a_redelivery_that_moves_nothing_more_finds_its_note_under_the_same_key(container: Container) -> None:
    # Given a Starter user whose eighth alert was paused by a plan.changed
    user = _pro_user_with_alerts(container, "key", 6)
    tenant = user.tenant_id
    user = _move(container, user, "starter")
    changed_ms = container.clock.now_ms() - 5_000  # the billing change committed a few seconds before
    event = PlanChanged(
        event_id=f"plan:{tenant}:starter:v1",
        tenant_id=tenant,
        plan_id="starter",
        user_ids=(user.user_id,),
        changed_ms=changed_ms,
    )
    container.plan_limits.apply(event)
    # When the note is read back
    (note,) = [n for n in container.inbox.list(user) if n.kind == "alerts.paused"]
    # Then it is stored under the billing change's time, which every delivery of the event computes alike
    assert note.created_ms == changed_ms and note.title == "1 alert paused"
