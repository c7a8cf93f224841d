"""The subscription (defaults + watched + scanned, resolved and capped), sharding, and replay of recorded ticks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from feed_fakes import SESSION_10AM, inst, tick
from mantra.clock import SystemClock
from mantra.feed.base import ProviderUnavailable
from mantra.feed.replay import ReplayProvider
from mantra.feed.subscription import Subscription, shard


class Source:
    def __init__(self, watched: set[str], scanned: set[str]) -> None:
        self.watched, self.scanned = watched, scanned

    def watched_symbols(self) -> set[str]:
        return self.watched

    def scanned_symbols(self) -> set[str]:
        return self.scanned


MASTER = {s: inst(s) for s in ("A", "B", "C", "D")}


def test_subscription_is_the_union_of_defaults_watched_and_scanned_known_symbols() -> None:
    sub = Subscription(Source({"B", "ZZZ"}, {"C", "B"}), MASTER.get, defaults=[inst("A")], capacity=10)
    assert [i.symbol for i in sub.load()] == ["A", "B", "C"]  # ZZZ is not in the instrument master


def test_a_cap_keeps_the_defaults_first() -> None:
    sub = Subscription(Source({"B", "C", "D"}, set()), MASTER.get, defaults=[inst("A")], capacity=2)
    assert [i.symbol for i in sub.load()] == ["A", "B"]


def test_defaults_take_the_masters_tokens_so_each_broker_gets_its_own_number() -> None:
    # the bundled demo list knows Angel's token only; the master has both brokers' own
    bundled = inst("RELIANCE").model_copy(update={"token": "2885", "broker_tokens": {}})
    stored = bundled.model_copy(update={"broker_tokens": {"angel": "2885", "kite": "738561"}})
    sub = Subscription(None, {"RELIANCE": stored}.get, defaults=[bundled, inst("SIMONLY")], capacity=10)
    got = {i.symbol: i for i in sub.load()}
    assert got["RELIANCE"].own_token("kite") == "738561" and got["RELIANCE"].own_token("angel") == "2885"
    assert got["SIMONLY"] == inst("SIMONLY")  # not in the master (a simulated contract): kept as given
    assert bundled.own_token("kite") is None  # never Angel's number for Kite


def test_shards_respect_the_per_connection_limit_and_the_connection_count() -> None:
    assert [len(s) for s in shard(range(2500), 1000, 3)] == [1000, 1000, 500]
    with pytest.raises(ValueError, match="allows 3"):
        shard(range(3001), 1000, 3)


def _record(path: Path, n: int) -> None:
    path.write_text("".join(tick("A" if i % 2 else "B", i, SESSION_10AM + i * 10).model_dump_json() + "\n"
                            for i in range(1, n + 1)))  # fmt: skip


def test_replay_retimes_and_restamps_recorded_ticks_and_keeps_only_the_subscribed(tmp_path: Path) -> None:
    path = tmp_path / "ticks.jsonl"
    _record(path, 40)
    got: list = []
    provider = ReplayProvider(path, SystemClock(), speed=10.0, loop=False)
    before = time.time_ns() // 1_000_000
    provider.start([inst("A")], got.extend)
    deadline = time.monotonic() + 3
    while provider.connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(got) == 20 and {t.symbol for t in got} == {"A"}
    assert all(t.ts_ms >= before for t in got)  # re-timed to now
    seqs = [t.seq for t in got]
    assert seqs == sorted(seqs) and seqs[0] >= before * 1000 and len({t.tick_id for t in got}) == 20
    assert [t.volume for t in got] == list(range(1, 41, 2))  # the recorded data itself is kept


def test_replay_of_a_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ProviderUnavailable):
        ReplayProvider(tmp_path / "nope.jsonl", SystemClock()).start([], lambda _: None)
