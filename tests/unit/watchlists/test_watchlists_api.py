"""Watchlists over HTTP (TestClient, no sockets): CRUD owned by the tenant (404 for another's), symbols checked
against an instrument master built from the exchange's real F&O report and the brokers' NSE/BSE rows, the plan's
``watchlists`` and ``watchlist_symbols`` limits, and the feed subscribing what the lists hold."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import pytest
import timebase
from fastapi.testclient import TestClient
from fo_master import real_fo_master
from mantra.auth.tokens import DevIssuer
from mantra.billing.plans import load_catalogs
from mantra.clock import ManualClock
from mantra.domain import Plan, Role, User
from mantra.feed.subscription import Subscription
from mantra.market.instruments import InstrumentMaster
from mantra.settings import Settings
from mantra.watchlists.models import Watchlist
from mantra.watchlists.service import WatchlistService

from frontend_api.app import create_app

CATALOG = {p.plan_id: p for p in load_catalogs()}


def user(n: int, plan_id: str) -> User:
    return User(
        user_id=f"usr_wl_{n}", email=f"wl{n}@demo.in", name=f"wl{n}", tenant_id=f"ten_wl_{n}",
        roles=frozenset({Role.TRADER}), plan_id=plan_id,
    )  # fmt: skip


class MemoryWatchlists:
    """The repository's contract: tenant-keyed, create-if-absent, replace only at the version read."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Watchlist] = {}
        self.race_once: Watchlist | None = None  # written "by another request" just before the next replace

    def create(self, w: Watchlist) -> None:
        assert (w.tenant_id, w.watchlist_id) not in self.items
        self.items[(w.tenant_id, w.watchlist_id)] = w

    def get(self, tenant_id: str, watchlist_id: str) -> Watchlist | None:
        return self.items.get((tenant_id, watchlist_id))

    def list(self, tenant_id: str) -> list[Watchlist]:
        return sorted((w for (t, _), w in self.items.items() if t == tenant_id), key=lambda w: w.created_ms)

    def count(self, tenant_id: str) -> int:
        return len(self.list(tenant_id))

    def replace(self, w: Watchlist, expected_updated_ms: int) -> bool:
        if self.race_once is not None:
            self.items[(w.tenant_id, w.watchlist_id)], self.race_once = self.race_once, None
        key = (w.tenant_id, w.watchlist_id)
        if key not in self.items or self.items[key].updated_ms != expected_updated_ms:
            return False
        self.items[key] = w
        return True

    def delete(self, tenant_id: str, watchlist_id: str) -> bool:
        return self.items.pop((tenant_id, watchlist_id), None) is not None

    def all_symbols(self) -> set[str]:
        return {s for w in self.items.values() for s in w.symbols}


class Plans:
    def __init__(self) -> None:
        self.by_id: dict[str, Plan] = dict(CATALOG)

    def get(self, plan_id: str) -> Plan | None:
        return self.by_id.get(plan_id)

    def all(self) -> list[Plan]:
        return list(self.by_id.values())

    def put_many(self, plans: object) -> None:
        raise NotImplementedError


@dataclass
class Container:
    master: InstrumentMaster
    clock: ManualClock = field(default_factory=timebase.clock)
    people: dict[str, User] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.repo, self.plans = MemoryWatchlists(), Plans()
        self.watchlists = WatchlistService(self.repo, self.master, self.plans, self.clock)
        self.users = self

    def get(self, user_id: str) -> User | None:  # the users repository
        return self.people.get(user_id)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("keys") / "dev.pem"
    DevIssuer.from_file(path, "https://issuer.test/auth", "client-test", 3600)
    return path


@pytest.fixture
def api(key_file) -> tuple[TestClient, Container]:  # type: ignore[no-untyped-def]
    settings = Settings(
        dev_issuer_key_file=key_file, auth_issuer="https://issuer.test/auth", auth_client_id="client-test"
    )
    container = Container(real_fo_master())
    client = TestClient(create_app(settings, container), raise_server_exceptions=False)  # type: ignore[arg-type]
    return client, container


def sign_in(client: TestClient, container: Container, u: User) -> dict[str, str]:
    container.people[u.user_id] = u
    token = client.app.state.dev_issuer.issue(u, timebase.NOW_MS // 1000)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def test_a_watchlist_round_trip_keeps_the_masters_nse_and_bse_keys(api: tuple[TestClient, Container]) -> None:
    client, c = api
    h = sign_in(client, c, user(1, "pro"))
    # When a user creates a list with a bare symbol, a BSE key and an index in lower case
    made = client.post(
        "/api/watchlists", headers=h, json={"name": " Banks ", "symbols": ["SBIN", "bse:SBIN", "nifty bank"]}
    )
    # Then the master's keys are stored: NSE and BSE SBIN are two entries
    assert made.status_code == 201, made.text
    wl = made.json()
    assert (wl["name"], wl["symbols"]) == ("Banks", ["NSE:SBIN", "BSE:SBIN", "NSE:NIFTY BANK"])
    path = f"/api/watchlists/{wl['watchlist_id']}"
    assert client.get(path, headers=h).json() == wl and client.get("/api/watchlists", headers=h).json() == [
        wl
    ]
    # When it is renamed and a real NFO contract and a symbol already there are added
    c.clock.advance(1000)
    renamed = client.patch(path, headers=h, json={"name": "PSU banks"}).json()
    assert renamed["name"] == "PSU banks" and renamed["updated"] > wl["updated"]
    option = next(i for i in c.master.contracts("SBIN") if i.instrument_type == "CE")
    added = client.post(f"{path}/symbols", headers=h, json={"symbols": [option.symbol, "SBIN"]}).json()
    assert added["symbols"] == ["NSE:SBIN", "BSE:SBIN", "NSE:NIFTY BANK", f"NFO:{option.symbol}"]
    # When one is removed by its key, Then only that one goes
    gone = client.delete(f"{path}/symbols/BSE:SBIN", headers=h)
    assert gone.status_code == 200 and gone.json()["symbols"] == [
        "NSE:SBIN",
        "NSE:NIFTY BANK",
        f"NFO:{option.symbol}",
    ]
    missing = client.delete(f"{path}/symbols/BSE:SBIN", headers=h)
    assert (
        missing.status_code == 404 and "BSE:SBIN is not on watchlist 'PSU banks'" in missing.json()["detail"]
    )
    # When it is deleted, Then it is gone
    assert client.delete(path, headers=h).status_code == 204
    assert (
        client.get(path, headers=h).status_code == 404
        and client.get("/api/watchlists", headers=h).json() == []
    )


def test_an_unknown_symbol_is_a_422_naming_it_and_where_and_nothing_is_stored(
    api: tuple[TestClient, Container],
) -> None:
    client, c = api
    h = sign_in(client, c, user(2, "pro"))
    bad = client.post("/api/watchlists", headers=h, json={"name": "x", "symbols": ["RELIANCE", "RELIANCEX"]})
    assert bad.status_code == 422
    body = bad.json()
    assert (
        body["errors"][0]["field"] == "symbols.1"
        and "'RELIANCEX' is not in the instrument master" in body["detail"]
    )
    assert c.repo.items == {}
    # BSE:NIFTY 50 is not a BSE instrument: the exchange is part of the key
    wl = client.post("/api/watchlists", headers=h, json={"name": "x"}).json()
    bad = client.post(
        f"/api/watchlists/{wl['watchlist_id']}/symbols", headers=h, json={"symbols": ["BSE:NIFTY 50"]}
    )
    assert bad.status_code == 422 and "'BSE:NIFTY 50'" in bad.json()["detail"]


def test_another_tenants_watchlist_is_404_on_every_route(api: tuple[TestClient, Container]) -> None:
    client, c = api
    owner, other = sign_in(client, c, user(3, "pro")), sign_in(client, c, user(4, "pro"))
    wl = client.post("/api/watchlists", headers=owner, json={"name": "mine", "symbols": ["INFY"]}).json()
    path = f"/api/watchlists/{wl['watchlist_id']}"
    answers = [
        client.get(path, headers=other),
        client.patch(path, headers=other, json={"name": "theirs"}),
        client.post(f"{path}/symbols", headers=other, json={"symbols": ["TCS"]}),
        client.delete(f"{path}/symbols/NSE:INFY", headers=other),
        client.delete(path, headers=other),
    ]
    assert [a.status_code for a in answers] == [404] * 5
    assert client.get("/api/watchlists", headers=other).json() == []
    assert client.get(path, headers=owner).json() == wl  # untouched
    assert client.get("/api/watchlists").status_code == 401


def test_the_plans_limits_refuse_one_list_and_one_symbol_too_many_naming_the_limit(
    api: tuple[TestClient, Container],
) -> None:
    client, c = api
    starter = CATALOG["starter"]
    lists, symbols = starter.limit("watchlists"), starter.limit("watchlist_symbols")
    assert 0 < lists < CATALOG["pro"].limit("watchlists") and 0 < symbols < CATALOG["pro"].limit(
        "watchlist_symbols"
    )
    h = sign_in(client, c, user(5, "starter"))
    # Given real NIFTY contracts, more than the plan allows on one list
    contracts = [i.symbol for i in c.master.contracts("NIFTY")][: symbols + 1]
    # Then a list of exactly the limit is fine and one more symbol is refused, naming the limit
    made = client.post("/api/watchlists", headers=h, json={"name": "full", "symbols": contracts[:symbols]})
    assert made.status_code == 201, made.text
    over = client.post(
        f"/api/watchlists/{made.json()['watchlist_id']}/symbols", headers=h, json={"symbols": contracts[-1:]}
    )
    assert over.status_code == 403 and "watchlist_symbols" in over.json()["detail"]
    assert f"allows {symbols} symbols" in over.json()["detail"]
    assert len(client.get("/api/watchlists", headers=h).json()[0]["symbols"]) == symbols
    too_long = client.post("/api/watchlists", headers=h, json={"name": "big", "symbols": contracts})
    assert too_long.status_code == 403 and "would have" in too_long.json()["detail"]
    # And lists up to the plan's number are fine, the next is refused naming the limit
    for n in range(lists - 1):
        assert client.post("/api/watchlists", headers=h, json={"name": f"l{n}"}).status_code == 201
    over = client.post("/api/watchlists", headers=h, json={"name": "one more"})
    assert (
        over.status_code == 403 and f"allows {lists} watchlists (limit watchlists)" in over.json()["detail"]
    )


def test_a_change_racing_another_is_reapplied_on_the_newer_list(api: tuple[TestClient, Container]) -> None:
    client, c = api
    h = sign_in(client, c, user(6, "pro"))
    wl = client.post("/api/watchlists", headers=h, json={"name": "r", "symbols": ["INFY"]}).json()
    stored = c.repo.items[("ten_wl_6", wl["watchlist_id"])]
    # Given another request adds TCS between our read and our write
    c.repo.race_once = stored.model_copy(
        update={"symbols": (*stored.symbols, "NSE:TCS"), "updated_ms": stored.updated_ms + 1}
    )
    # When we add ITC, Then both additions survive
    got = client.post(f"/api/watchlists/{wl['watchlist_id']}/symbols", headers=h, json={"symbols": ["ITC"]})
    assert got.json()["symbols"] == ["NSE:INFY", "NSE:TCS", "NSE:ITC"]


def test_the_feed_subscribes_what_watchlists_hold_with_each_brokers_own_tokens(
    api: tuple[TestClient, Container], caplog: pytest.LogCaptureFixture
) -> None:
    client, c = api
    h = sign_in(client, c, user(7, "pro"))
    client.post("/api/watchlists", headers=h, json={"name": "a", "symbols": ["INFY", "BSE:SBIN"]})
    client.post("/api/watchlists", headers=h, json={"name": "b", "symbols": ["BSE:RELIANCE", "RELIANCE"]})

    class Source:  # what DynamoFeedSubscriptionRepository.watched_symbols reads: the lists' symbols
        def watched_symbols(self) -> set[str]:
            return c.repo.all_symbols()

        def scanned_symbols(self) -> set[str]:
            return set()

    with caplog.at_level(logging.WARNING, logger="mantra.feed.subscription"):
        got = {(i.exchange, i.symbol): i for i in Subscription(Source(), c.master.get, [], 3000).load()}
    # BSE SBIN is streamed on its own BSE tokens; RELIANCE on both exchanges only once: ticks are keyed by symbol
    assert set(got) == {("NSE", "INFY"), ("BSE", "SBIN"), ("NSE", "RELIANCE")}
    assert got[("BSE", "SBIN")].broker_tokens == {
        "angel": "500112",
        "kite": "128028676",
        "kite_exchange": "500112",
    }
    assert "BSE:RELIANCE left out" in caplog.text
    assert copy.deepcopy(got[("NSE", "INFY")]).own_token("kite") == c.master.get("INFY").own_token("kite")  # type: ignore[union-attr]
