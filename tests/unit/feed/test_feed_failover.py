"""Failover between providers: stale or dropped connections, logins a person must do, backoff, fail-back."""

from __future__ import annotations

import random

from feed_fakes import SESSION_10AM, NeedsLogin, ProviderUnavailable, ScriptedProvider, inst, tick
from mantra.clock import ManualClock
from mantra.feed.base import ProviderState
from mantra.feed.failover import Backoff, FailoverFeed


def _feed(*providers: ScriptedProvider, market_open: bool = True, clock: ManualClock | None = None):
    clock = clock or ManualClock(SESSION_10AM)
    feed = FailoverFeed(
        providers, clock, stale_after_s=5, market_open=lambda _: market_open, backoff=Backoff(1, 60),
        login_retry_s=300, rng=random.Random(1),
    )  # fmt: skip
    got: list = []
    feed.start([inst("A")], got.extend)
    return feed, clock, got


def test_the_first_provider_in_the_order_streams_and_only_its_ticks_are_forwarded() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    feed, _, got = _feed(angel, kite)
    angel.push(tick("A", 1))
    assert feed.active is not None and feed.active.provider is angel
    assert kite.starts == 0 and [t.seq for t in got] == [1]


def test_a_stale_provider_in_market_hours_fails_over_to_the_next() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    feed, clock, got = _feed(angel, kite)
    angel.push(tick("A", 1))
    clock.advance(6_000)  # no tick for 6 s > 5 s
    feed.supervise()
    assert feed.active.provider is kite and angel.stops == 1
    assert feed.slots[0].state is ProviderState.BACKOFF
    kite.push(tick("A", 2))
    assert [t.seq for t in got] == [1, 2]


def test_a_quiet_provider_outside_market_hours_is_not_stale() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    feed, clock, _ = _feed(angel, kite, market_open=False)
    clock.advance(3_600_000)
    feed.supervise()
    assert feed.active.provider is angel and kite.starts == 0


def test_a_dropped_connection_fails_over_and_the_old_providers_late_ticks_are_ignored() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    feed, _, got = _feed(angel, kite)
    angel.up = False
    feed.supervise()
    assert feed.active.provider is kite
    angel.push(tick("A", 9))  # a straggler from the dead connection
    assert got == []


def test_needs_login_falls_back_and_is_retried_only_after_the_login_interval() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    angel.fail = NeedsLogin("request token required")
    feed, clock, _ = _feed(angel, kite)
    assert feed.active.provider is kite and feed.slots[0].state is ProviderState.NEEDS_LOGIN
    clock.advance(60_000)
    feed.supervise()
    assert angel.starts == 1  # not hammered
    angel.fail = None
    clock.advance(241_000)
    feed.supervise()
    assert angel.starts == 2 and feed.active.provider is angel and kite.stops == 1  # failed back


def test_reconnect_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    angel = ScriptedProvider("angel")
    angel.fail = ProviderUnavailable("connection refused")
    clock = ManualClock(SESSION_10AM)
    feed, _, _ = _feed(angel, clock=clock)
    delays = []
    for _ in range(9):
        slot = feed.slots[0]
        delays.append((slot.next_try_ms - clock.now) / 1000)
        clock.now = slot.next_try_ms
        feed.supervise()
    for n, d in enumerate(delays, start=1):
        step = min(60, 2 ** (n - 1))
        assert step / 2 <= d <= step, (n, d)
    assert delays[-1] >= 30 and angel.starts == 10


def test_a_healthy_stream_resets_the_failure_count() -> None:
    angel = ScriptedProvider("angel")
    angel.fail = ProviderUnavailable("refused")
    feed, clock, _ = _feed(angel)
    clock.now = feed.slots[0].next_try_ms
    feed.supervise()
    clock.now = feed.slots[0].next_try_ms
    angel.fail = None
    feed.supervise()
    assert feed.slots[0].failures == 2
    angel.push(tick("A", 1))
    assert feed.slots[0].failures == 0


def test_a_new_subscription_reaches_the_active_provider() -> None:
    angel = ScriptedProvider("angel")
    feed, _, _ = _feed(angel)
    feed.set_instruments([inst("A"), inst("B")])
    assert angel.subscribed == ["A", "B"]


def test_nothing_streams_when_every_provider_needs_login() -> None:
    angel, kite = ScriptedProvider("angel"), ScriptedProvider("kite")
    angel.fail = kite.fail = NeedsLogin("no token")
    feed, _, _ = _feed(angel, kite)
    assert feed.active is None
    assert feed.states() == {"angel": "needs_login", "kite": "needs_login"}


class EagerProvider(ScriptedProvider):
    """Sends its first ticks from inside start(), as a broker socket does once the subscription is made."""

    def __init__(self, name: str, first: list) -> None:
        super().__init__(name)
        self.first = first

    def start(self, instruments, sink) -> None:  # type: ignore[no-untyped-def]
        super().start(instruments, sink)
        sink(list(self.first))


def test_ticks_sent_while_the_first_provider_is_still_starting_are_kept() -> None:
    # Given a provider whose connection delivers two ticks before start() returns
    angel = EagerProvider("angel", [tick("A", 1), tick("A", 2)])
    # When the feed starts it
    feed, _, got = _feed(angel)
    angel.push(tick("A", 3))
    # Then none of them is lost
    assert feed.active.provider is angel and [t.seq for t in got] == [1, 2, 3]


def test_ticks_sent_while_a_failover_target_is_starting_are_kept() -> None:
    # Given angel streaming, then its connection drops; kite sends ticks from inside start()
    angel, kite = ScriptedProvider("angel"), EagerProvider("kite", [tick("A", 2)])
    feed, _, got = _feed(angel, kite)
    angel.push(tick("A", 1))
    angel.up = False
    # When the failover starts kite
    feed.supervise()
    # Then kite's first tick is forwarded too
    assert feed.active.provider is kite and [t.seq for t in got] == [1, 2]


def test_while_failing_back_only_the_active_providers_ticks_count_until_the_switch() -> None:
    # Given kite active after angel needed a login, and angel, on its retry, sending a tick from start()
    angel, kite = EagerProvider("angel", [tick("A", 7)]), ScriptedProvider("kite")
    angel.fail = NeedsLogin("request token required")
    feed, clock, got = _feed(angel, kite, market_open=False)  # kite never goes stale here
    kite.push(tick("A", 6))
    angel.fail = None
    clock.advance(301_000)
    # When the feed fails back to angel
    feed.supervise()
    # Then the tick angel sent before it became active is not forwarded beside kite's (it would count twice)
    assert feed.active.provider is angel and [t.seq for t in got] == [6]
    angel.push(tick("A", 8))
    assert [t.seq for t in got] == [6, 8]
