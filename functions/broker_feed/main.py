"""The feed task: one broker connection (simulated here) publishing every tick to Kinesis.

Runs as the Fargate service in the cloud and as a child process of ``mantra dev`` locally. SIGTERM stops it
cleanly (ECS sends SIGTERM before SIGKILL).
"""

from __future__ import annotations

import logging
import signal
import sys

from mantra.clock import SystemClock
from mantra.feed.runner import FeedRunner
from mantra.feed.simulated import SimulatedMarket
from mantra.market.instruments import demo_instruments
from mantra.settings import Settings, get_settings
from mantra.store import tables
from mantra.store.aws import KinesisTickPublisher
from mantra.store.repositories import DynamoFeedStatusRepository


def build(settings: Settings) -> FeedRunner:
    tables.configure(settings)
    if settings.feed_provider != "simulated":
        raise SystemExit(
            f"feed provider {settings.feed_provider!r} is not available in this build; use simulated"
        )
    provider = SimulatedMarket(demo_instruments(), seed=settings.feed_seed)
    return FeedRunner(
        provider,
        KinesisTickPublisher(settings),
        DynamoFeedStatusRepository(),
        SystemClock(),
        settings.feed_interval_ms,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s broker_feed %(levelname)s %(message)s")
    runner = build(get_settings())
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    signal.signal(signal.SIGINT, lambda *_: runner.stop())
    logging.info("feed started")
    runner.run()
    logging.info("feed stopped after %d ticks", runner.published)
    sys.exit(0)


if __name__ == "__main__":
    main()
