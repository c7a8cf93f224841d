"""Watchlists on DynamoDB Local through the real API app: tenant-keyed items holding the master's keys, the
optimistic version check, and the feed's subscription source reading what the lists hold."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient
from mantra.clock import SystemClock
from mantra.container import Container
from mantra.domain import Role, User
from mantra.settings import Settings
from mantra.store.feed_repository import DynamoFeedSubscriptionRepository
from mantra.store.watchlist_models import WatchlistItem
from mantra.store.watchlist_repository import DynamoWatchlistRepository

from frontend_api.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
_ids = itertools.count()


@pytest.fixture(scope="module")
def app(platform: Settings) -> tuple[TestClient, Container]:
    container = Container(platform, SystemClock())
    return TestClient(create_app(platform, container)), container


def signed_in(app: tuple[TestClient, Container], plan_id: str = "pro") -> tuple[User, dict[str, str]]:
    client, container = app
    n = next(_ids)
    user = User(
        user_id=f"usr_wlit_{n}", email=f"wlit{n}@test.trademantra.in", name=f"WL {n}", tenant_id=f"ten_wlit_{n}",
        roles=frozenset({Role.TRADER}), plan_id=plan_id,
    )  # fmt: skip
    now = SystemClock().now_ms()
    container.users.put(user, "unused", now)
    token = client.app.state.dev_issuer.issue(user, now // 1000)  # type: ignore[attr-defined]
    return user, {"Authorization": f"Bearer {token}"}


def test_watchlists_are_stored_per_tenant_with_master_keys_and_feed_the_subscription(
    app: tuple[TestClient, Container],
) -> None:
    client, _ = app
    owner, h = signed_in(app)
    _, other = signed_in(app)
    # When a user makes a list in the seeded master's symbols and changes it
    made = client.post(
        "/api/watchlists", headers=h, json={"name": "Core", "symbols": ["RELIANCE", "nifty 50"]}
    )
    assert made.status_code == 201, made.text
    wl_id = made.json()["watchlist_id"]
    assert (
        client.post(f"/api/watchlists/{wl_id}/symbols", headers=h, json={"symbols": ["TCS"]}).status_code
        == 200
    )
    assert client.delete(f"/api/watchlists/{wl_id}/symbols/NIFTY 50", headers=h).status_code == 200
    # Then DynamoDB holds one item under the tenant, with the master's exchange-qualified keys
    item = WatchlistItem.get(owner.tenant_id, wl_id, consistent_read=True)
    assert (item.user_id, item.name, list(item.symbols)) == (
        owner.user_id,
        "Core",
        ["NSE:RELIANCE", "NSE:TCS"],
    )
    # And another tenant sees nothing of it
    assert client.get(f"/api/watchlists/{wl_id}", headers=other).status_code == 404
    assert client.get("/api/watchlists", headers=other).json() == []
    # And the feed's subscription source reads the list's symbols; a deleted list is gone for good
    assert {"NSE:RELIANCE", "NSE:TCS"} <= DynamoFeedSubscriptionRepository().watched_symbols()
    assert client.delete(f"/api/watchlists/{wl_id}", headers=h).status_code == 204
    with pytest.raises(WatchlistItem.DoesNotExist):
        WatchlistItem.get(owner.tenant_id, wl_id, consistent_read=True)
    assert client.delete(f"/api/watchlists/{wl_id}", headers=h).status_code == 404


def test_a_write_at_a_stale_version_is_refused_by_dynamodb(app: tuple[TestClient, Container]) -> None:
    client, _ = app
    owner, h = signed_in(app)
    wl = client.post("/api/watchlists", headers=h, json={"name": "v", "symbols": ["INFY"]}).json()
    repo = DynamoWatchlistRepository()
    stored = repo.get(owner.tenant_id, wl["watchlist_id"])
    assert stored is not None
    newer = stored.model_copy(update={"name": "v2", "updated_ms": stored.updated_ms + 1})
    assert repo.replace(newer, stored.updated_ms) is True
    # a second writer that read the old version loses
    assert (
        repo.replace(
            stored.model_copy(update={"name": "lost", "updated_ms": stored.updated_ms + 1}), stored.updated_ms
        )
        is False
    )
    assert repo.get(owner.tenant_id, wl["watchlist_id"]).name == "v2"  # type: ignore[union-attr]
