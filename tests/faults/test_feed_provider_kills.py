"""The active feed provider killed every 30 s (its broker websocket server goes away; it comes back 10 s later)
while the feed task's runner streams through the failover between Angel One and Kite (their SDKs against
loopback stand-ins of the brokers): every tick published becomes its candle volume exactly once, no 1-minute
candle is missing, and the failover time and the largest gap are reported.

``MANTRA_FAULTS_MINUTES`` (default 1) says how long the kill loop runs: two kills a minute.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from itertools import pairwise

import pytest
from faultkit import FaultPlatform, record
from integration.feed_servers import AngelSmartStream, BrokerAccounts, BrokerHttp, KiteTickerServer
from integration.helpers import stream_ticks
from mantra.clock import SystemClock, ist_from_ms
from mantra.domain import Instrument, Tick
from mantra.feed.failover import Backoff, FailoverFeed
from mantra.feed.providers.angel import AngelProvider
from mantra.feed.providers.kite import KiteProvider
from mantra.feed.runner import StreamingFeedRunner
from mantra.market.session import in_session
from mantra.market.timeframes import bucket_start_ms
from mantra.store.aws import KinesisTickPublisher, client
from mantra.store.repositories import DynamoFeedStatusRepository, DynamoQuoteRepository
from traffic import expected_candles, put_records, quote_seq, stored_candles, wait_drained

MINUTES = float(os.environ.get("MANTRA_FAULTS_MINUTES", "1"))
KILL_EVERY_S, DOWN_S = 30.0, 10.0
# NIFTY FIN SERVICE as the two brokers' instrument dumps number it (layers/core/mantra/data/*_sample*)
FINNIFTY = Instrument(
    symbol="NIFTY FIN SERVICE",
    token="99926037",
    exchange="NSE",
    name="NIFTY FIN SERVICE",
    instrument_type="INDEX",
    broker_tokens={"angel": "99926037", "kite": "257801"},
)
ANGEL_BASE, KITE_BASE = 12_300, 22_300  # the two stand-ins quote apart, so a quote says who sent it


class Brokers:
    """Angel's and Kite's stand-ins; ``kill`` closes one's websocket server, ``revive`` starts it on its port."""

    def __init__(self) -> None:
        self.accounts = BrokerAccounts()
        self.http = BrokerHttp(self.accounts)
        self.ws: dict[str, AngelSmartStream | KiteTickerServer] = {
            "angel": AngelSmartStream(self.accounts, ANGEL_BASE),
            "kite": KiteTickerServer(self.accounts, KITE_BASE),
        }

    def kill(self, name: str) -> None:
        self.ws[name].close()

    def revive(self, name: str) -> None:
        port = self.ws[name].port
        self.ws[name] = (
            AngelSmartStream(self.accounts, ANGEL_BASE, port)
            if name == "angel"
            else KiteTickerServer(self.accounts, KITE_BASE, port)
        )

    def close(self) -> None:
        for server in self.ws.values():
            server.close()
        self.http.close()


@pytest.fixture
def brokers() -> Iterator[Brokers]:
    b = Brokers()
    yield b
    b.close()


def _who(ltp_paise: int) -> str:
    return "kite" if ltp_paise >= KITE_BASE else "angel"


def _ltp(symbol: str) -> int:
    try:
        quote = DynamoQuoteRepository().get(symbol)
    except Exception:
        return -1
    return quote.ltp_paise if quote else -1


@pytest.mark.timeout(int(MINUTES * 60) + 240)
def test_feed_provider_killed_every_30s_fails_over_and_every_tick_counts_once(
    faulty: FaultPlatform, brokers: Brokers
):
    settings = faulty.settings
    clock = SystemClock()
    angel = AngelProvider(
        brokers.accounts.angel_credentials, clock, brokers.http.url, brokers.ws["angel"].url, open_timeout_s=3
    )
    kite = KiteProvider(
        brokers.accounts.kite_credentials, clock, brokers.http.url, brokers.ws["kite"].url, open_timeout_s=3
    )
    # Given the feed task's runner on angel then kite, with the failover and backoff the task is configured with
    feed = FailoverFeed(
        [angel, kite],
        clock,
        stale_after_s=settings.feed_failover_after_s,
        market_open=in_session,
        backoff=Backoff(cap_s=settings.feed_backoff_cap_s),
    )
    runner = StreamingFeedRunner(
        feed,
        KinesisTickPublisher(settings),
        DynamoFeedStatusRepository(),
        clock,
        lambda: [FINNIFTY],
        flush_ms=settings.feed_flush_ms,
        batch=settings.feed_batch,
        feed_id="faults-failover",
    )
    thread = threading.Thread(target=runner.run, name="faults-feed", daemon=True)
    thread.start()
    failovers: list[tuple[str, str, float]] = []
    try:
        deadline = time.monotonic() + 10
        while _ltp(FINNIFTY.symbol) < 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _ltp(FINNIFTY.symbol) > 0, "no tick reached the quotes"
        # When, every 30 s, the provider in use is killed and comes back 10 s later
        for _ in range(max(2, round(MINUTES * 60 / KILL_EVERY_S))):
            cycle = time.monotonic()
            active = _who(_ltp(FINNIFTY.symbol))
            other = "kite" if active == "angel" else "angel"
            brokers.kill(active)
            killed = time.monotonic()
            while _who(_ltp(FINNIFTY.symbol)) != other and time.monotonic() - killed < DOWN_S:
                time.sleep(0.02)
            took = time.monotonic() - killed
            assert _who(_ltp(FINNIFTY.symbol)) == other, f"no failover from {active} within {DOWN_S} s"
            failovers.append((active, other, took))
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - cycle)))
            brokers.revive(active)
            time.sleep(max(0.0, KILL_EVERY_S - (time.monotonic() - cycle)))
    finally:
        runner.stop()
        thread.join(timeout=20)
    assert not thread.is_alive() and not len(runner.buffer)

    # Then every tick the feed put on the stream is in its candles once, and no minute is missing
    sent = _distinct(stream_ticks(settings, FINNIFTY.symbol))
    assert sent and len(sent) == runner.published, (len(sent), runner.published)
    last = max(sent, key=lambda t: t.seq)
    kinesis = client("kinesis", settings.region)
    drained = put_records(kinesis, settings.name("ticks"), [(last.symbol, last.model_dump_json().encode())])
    wait_drained(faulty.checkpoint_dir(), drained)
    day = ist_from_ms(sent[0].ts_ms).date()
    for tf in ("1m", "1d"):
        assert stored_candles(FINNIFTY.symbol, tf, day) == expected_candles(sent, tf), tf
    assert quote_seq(FINNIFTY.symbol) == last.seq
    minutes = sorted({bucket_start_ms(t.ts_ms, "1m") for t in sent})
    missing = (minutes[-1] - minutes[0]) // 60_000 + 1 - len(minutes)
    assert missing == 0
    ts = sorted(t.ts_ms for t in sent)
    gap_s = max(b - a for a, b in pairwise(ts)) / 1000
    worst = max(f[2] for f in failovers)
    record(
        "feed provider killed every 30 s",
        f"{len(failovers)} kills in {MINUTES:g} min ({', '.join(f'{a}->{b} {s:.1f} s' for a, b, s in failovers)});"
        f" failover (kill to the other broker's tick in the quote) worst {worst:.1f} s; largest gap between"
        f" ticks {gap_s:.1f} s; 0 of {len(minutes)} 1-minute candles missing; {len(sent)} ticks counted once",
    )


def _distinct(ticks: list[Tick]) -> list[Tick]:
    """The stream holds each tick once unless a put was retried; the candles must hold each distinct tick once."""
    return list({t.seq: t for t in ticks}.values())
