"""The feed task: one admin broker connection (with failover) publishing every tick to Kinesis.

Runs as the Fargate service in the cloud and as a child process of ``mantra dev`` locally. SIGTERM stops it
cleanly (ECS sends SIGTERM before SIGKILL). ``MANTRA_FEED_PROVIDER`` is the failover order, e.g.
``angel,kite``; locally it is ``simulated``. Broker credentials come from the ``mantra/<stage>/broker`` secret,
read at each login (so a Kite token an admin stores is picked up) and never logged.
"""

from __future__ import annotations

import logging
import signal
import sys
from functools import partial
from typing import Any

from mantra.clock import SystemClock
from mantra.feed.base import Provider
from mantra.feed.chain_plan import ChainPlanner, ChainSettings
from mantra.feed.failover import Backoff, FailoverFeed
from mantra.feed.history_worker import HistoryWorker
from mantra.feed.replay import ReplayProvider
from mantra.feed.runner import LastPrices, StreamingFeedRunner
from mantra.feed.simulated import SimulatedMarket, SimulatedProvider
from mantra.feed.subscription import Chains, Subscription
from mantra.market.instrument_master import InstrumentCatalog
from mantra.market.instruments import demo_instruments
from mantra.market.session import in_session
from mantra.settings import Settings, get_settings
from mantra.store import tables
from mantra.store.aws import KinesisTickPublisher, read_secret
from mantra.store.feed_repository import DynamoFeedSubscriptionRepository
from mantra.store.repositories import (
    DynamoCandleRepository,
    DynamoFeedStatusRepository,
    DynamoInstrumentRepository,
    DynamoQuoteRepository,
)

PROVIDERS = ("angel", "kite", "simulated", "replay")
BROKERS = ("angel", "kite")
DEFAULT_CAPACITY = 3000  # a provider that states none (simulated, replay)


def _provider(name: str, settings: Settings, clock: SystemClock, market: SimulatedMarket) -> Provider:
    credentials = partial(read_secret, settings, "broker")
    if name == "simulated":
        return SimulatedProvider(market, clock, settings.feed_interval_ms)
    if name == "replay":
        if settings.feed_replay_file is None:
            raise SystemExit("the replay provider needs MANTRA_FEED_REPLAY_FILE")
        return ReplayProvider(settings.feed_replay_file, clock, speed=settings.feed_replay_speed)
    if name == "angel":
        from mantra.feed.providers.angel import AngelProvider

        return AngelProvider(credentials, clock, api_url=settings.angel_api_url, ws_url=settings.angel_ws_url)
    if name == "kite":
        from mantra.feed.providers.kite import KiteProvider

        return KiteProvider(credentials, clock, api_url=settings.kite_api_url, ws_url=settings.kite_ws_url)
    raise SystemExit(f"unknown feed provider {name!r}; choose from {', '.join(PROVIDERS)}")


def _history(providers: list[Provider], settings: Settings, clock: SystemClock) -> HistoryWorker | None:
    """Broker history from the first broker in the failover order: backfill new instruments, repair outages."""
    broker = next((p for p in providers if p.name in ("angel", "kite")), None)
    if broker is None or settings.feed_history_sessions == 0:
        return None
    from mantra.feed.providers.history import broker_history
    from mantra.feed.providers.kite import KiteProvider
    from mantra.market.history_repair import HistoryRepair

    api_url = settings.angel_api_url if broker.name == "angel" else settings.kite_api_url
    history = broker_history(
        broker.name,
        partial(read_secret, settings, "broker"),
        clock,
        api_url,
        kite_session=broker.session if isinstance(broker, KiteProvider) else None,
    )
    repair = HistoryRepair(history, DynamoCandleRepository(), clock)
    return HistoryWorker(repair, sessions=settings.feed_history_sessions)


def build(settings: Settings) -> StreamingFeedRunner:
    tables.configure(settings)
    clock = SystemClock()
    names = [n.strip() for n in settings.feed_provider.split(",") if n.strip()]
    chains = [c.strip() for c in settings.feed_option_chains.split(",") if c.strip()]
    market = SimulatedMarket(
        demo_instruments(), seed=settings.feed_seed, option_chains=chains, start_ms=clock.now_ms()
    )
    providers = [_provider(n, settings, clock, market) for n in names]
    feed = FailoverFeed(
        providers,
        clock,
        stale_after_s=settings.feed_failover_after_s,
        market_open=in_session,
        backoff=Backoff(cap_s=settings.feed_backoff_cap_s),
        login_retry_s=settings.feed_login_retry_s,
    )
    instruments_repo = DynamoInstrumentRepository()
    prices = LastPrices()
    subscription = Subscription(
        DynamoFeedSubscriptionRepository(),
        instruments_repo.get,
        defaults=market.instruments,  # the demo instruments and the configured option chains
        # what every provider in the failover order can hold (SmartAPI: 3 x 1000; Kite: 3 x 3000)
        capacity=min([getattr(p, "capacity", DEFAULT_CAPACITY) for p in providers]),
        chains=_chains(settings, names, instruments_repo, prices, clock),
    )
    return StreamingFeedRunner(
        feed,
        KinesisTickPublisher(settings),
        DynamoFeedStatusRepository(),
        clock,
        subscription.load,
        flush_ms=settings.feed_flush_ms,
        batch=settings.feed_batch,
        refresh_s=settings.feed_subscription_refresh_s,
        history=_history(providers, settings, clock),
        prices=prices,
    )


def _chains(
    settings: Settings,
    names: list[str],
    instruments: DynamoInstrumentRepository,
    prices: LastPrices,
    clock: SystemClock,
) -> Chains | None:
    """The live option chains, from the master's real contracts: only on a broker feed (the simulated market
    prices its own demo chains, ``feed_option_chains``)."""
    underlyings = tuple(u.strip().upper() for u in settings.feed_chain_underlyings.split(",") if u.strip())
    if not underlyings or not any(n in BROKERS for n in names):
        return None
    catalog = InstrumentCatalog(instruments, ttl_s=300)  # one index query per underlying per 5 minutes
    quotes = DynamoQuoteRepository()

    def price(symbol: str) -> int | None:
        """The feed's own latest tick, else the stored quote (a restart mid-session)."""
        seen = prices.get(symbol)
        if seen is not None:
            return seen
        quote = quotes.get(symbol)
        return quote.ltp_paise if quote is not None else None

    planner = ChainPlanner(
        ChainSettings(
            underlyings=underlyings,
            expiries=settings.feed_chain_expiries,
            strikes_each_side=settings.feed_chain_strikes,
            hysteresis=settings.feed_chain_hysteresis,
        )
    )
    return Chains(planner, lambda u: catalog.derivatives(u, None), price, clock.now_ms)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s broker_feed %(levelname)s %(message)s")
    runner = build(get_settings())

    def stop(*_: Any) -> None:
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.info("feed started")
    runner.run()
    logging.info("feed stopped after %d ticks", runner.published)
    sys.exit(0)


if __name__ == "__main__":
    main()
