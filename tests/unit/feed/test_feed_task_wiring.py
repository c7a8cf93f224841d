"""The feed task's wiring: the subscription fits the smallest broker in the failover order, and live option
chains are planned only on a broker feed (the simulated market prices its own demo chains)."""

from __future__ import annotations

import pytest
from mantra.feed.subscription import Subscription
from mantra.settings import Settings

import functions.broker_feed.main as feed_task
from functions.broker_feed.main import build


@pytest.fixture(autouse=True)
def _no_kinesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The publisher describes its stream when built; this is about the subscription, not the stream."""
    monkeypatch.setattr(feed_task, "KinesisTickPublisher", lambda settings: object())


def _subscription(settings: Settings) -> Subscription:
    runner = build(settings)
    sub = runner._subscription.__self__  # type: ignore[attr-defined]  # the bound Subscription.load
    assert isinstance(sub, Subscription)
    return sub


@pytest.mark.parametrize(
    ("providers", "capacity"),
    [("angel,kite", 3 * 1000), ("kite", 3 * 3000), ("kite,angel", 3 * 1000), ("simulated", 3000)],
)
def test_the_subscription_fits_every_provider_in_the_failover_order(providers: str, capacity: int) -> None:
    assert _subscription(Settings(feed_provider=providers)).cut.capacity == capacity


def test_chains_come_from_the_settings_on_a_broker_feed_only() -> None:
    sub = _subscription(
        Settings(feed_provider="angel", feed_chain_underlyings="nifty, SENSEX", feed_chain_expiries=3,
                 feed_chain_strikes=15, feed_chain_hysteresis=0.4)
    )  # fmt: skip
    assert sub._chains is not None
    s = sub._chains.planner.settings
    assert (s.underlyings, s.expiries, s.strikes_each_side, s.hysteresis) == (("NIFTY", "SENSEX"), 3, 15, 0.4)
    assert _subscription(Settings(feed_provider="simulated"))._chains is None
    assert _subscription(Settings(feed_provider="angel", feed_chain_underlyings=""))._chains is None
