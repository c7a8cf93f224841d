"""The feed task's runners.

``StreamingFeedRunner`` is the one the task runs: providers push ticks (from their own threads) into a bounded
buffer; a publisher thread flushes it to Kinesis every ``flush_ms`` or as soon as ``batch`` ticks are waiting;
the main loop supervises the failover, refreshes the subscription and beats the health record once a second.
``FeedRunner`` is the older pull loop over a stepped provider, kept for tools that step a market by hand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import FeedStatus, Instrument, Tick
from mantra.feed.failover import FailoverFeed
from mantra.ports import FeedStatusRepository, TickPublisher

log = logging.getLogger(__name__)


class TickBuffer:
    """Thread-safe and bounded. When full, the oldest ticks go first (a fresh price is worth more than a stale
    one) and are counted in ``dropped``; a failed batch goes back to the front so order is kept."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._q: deque[Tick] = deque()
        self._capacity = capacity
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, ticks: Sequence[Tick], wake_at: int) -> None:
        with self._cond:
            self._q.extend(ticks)
            over = len(self._q) - self._capacity
            for _ in range(max(0, over)):
                self._q.popleft()
            self.dropped += max(0, over)
            if len(self._q) >= wake_at:
                self._cond.notify()

    def requeue(self, ticks: Sequence[Tick]) -> None:
        with self._cond:
            self._q.extendleft(reversed(ticks))
            over = len(self._q) - self._capacity
            for _ in range(max(0, over)):
                self._q.popleft()
            self.dropped += max(0, over)

    def take(self, max_n: int, wait_s: float) -> list[Tick]:
        """Up to ``max_n`` ticks, waiting at most ``wait_s`` for that many to arrive."""
        with self._cond:
            if len(self._q) < max_n and wait_s > 0:
                self._cond.wait(wait_s)
            n = min(max_n, len(self._q))
            return [self._q.popleft() for _ in range(n)]

    def __len__(self) -> int:
        return len(self._q)


class SeqGuard:
    """Downstream drops a tick whose ``seq`` is not above the stored quote's; across a failover the new
    provider's clock may lag, so a tick that would go backwards gets the next ``seq`` (and a new id)."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def apply(self, ticks: Sequence[Tick]) -> list[Tick]:
        out = []
        for t in ticks:
            last = self._last.get(t.symbol, -1)
            if t.seq <= last:
                seq = last + 1
                t = t.model_copy(update={"seq": seq, "tick_id": f"{t.token}-{seq}"})
            self._last[t.symbol] = t.seq
            out.append(t)
        return out


class LastPrices:
    """The latest traded price of each symbol the feed has published (paise): where option bands centre."""

    def __init__(self) -> None:
        self._paise: dict[str, int] = {}

    def update(self, ticks: Sequence[Tick]) -> None:
        for t in ticks:
            self._paise[t.symbol] = t.ltp_paise

    def get(self, symbol: str) -> int | None:
        return self._paise.get(symbol)


class HistoryHooks(Protocol):
    """What the runner tells broker history (``mantra.feed.history_worker.HistoryWorker``); both only queue."""

    def subscribed(self, instruments: Sequence[Instrument]) -> None: ...
    def recovered(self, instruments: Sequence[Instrument], start_ms: int, end_ms: int) -> None: ...


OUTAGE_STATES = frozenset({"reconnecting", "needs_login"})  # no provider streaming: ticks are being missed


class StreamingFeedRunner:
    def __init__(
        self,
        feed: FailoverFeed,
        publisher: TickPublisher,
        status: FeedStatusRepository,
        clock: Clock,
        subscription: Callable[[], list[Instrument]],
        flush_ms: int = 150,
        batch: int = 500,
        buffer_capacity: int = 100_000,
        refresh_s: float = 60.0,
        feed_id: str = "primary",
        history: HistoryHooks | None = None,
        prices: LastPrices | None = None,
    ) -> None:
        self._feed, self._publisher, self._status, self._clock = feed, publisher, status, clock
        self.prices = prices or LastPrices()
        self._history = history
        self._outage_from: int | None = None  # when the current outage began (epoch ms), if one is under way
        self._streaming_with: str | None = None  # the provider streaming at the last check
        self._subscription, self._flush_s, self._batch = subscription, flush_ms / 1000, batch
        self._refresh_ms, self._feed_id = int(refresh_s * 1000), feed_id
        self.buffer = TickBuffer(buffer_capacity)
        self._guard = SeqGuard()
        self._guard_lock = threading.Lock()
        self._stop = threading.Event()
        self.published = 0
        self.last_tick_ms = 0
        self.publish_failing = False
        self.instruments: list[Instrument] = []
        self._refreshed_ms = 0

    # providers call this from their threads
    def on_ticks(self, ticks: list[Tick]) -> None:
        with self._guard_lock:
            ticks = self._guard.apply(ticks)
            self.prices.update(ticks)
        self.buffer.put(ticks, wake_at=self._batch)

    def flush(self, wait_s: float = 0.0) -> int:
        """Publish one batch; on failure the batch goes back to the front of the buffer."""
        ticks = self.buffer.take(self._batch, wait_s)
        if not ticks:
            return 0
        try:
            self.published += self._publisher.publish(ticks)
        except Exception:
            log.exception("publishing %d ticks failed; kept for the next flush", len(ticks))
            self.buffer.requeue(ticks)
            self.publish_failing = True
            return 0
        self.publish_failing = False
        self.last_tick_ms = max(self.last_tick_ms, max(t.ts_ms for t in ticks))
        return len(ticks)

    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            sent = self.flush(wait_s=self._flush_s)
            if self.publish_failing:
                self._stop.wait(0.5)
            elif sent < self._batch:  # flush on the interval, not faster, unless a full batch is waiting
                self._stop.wait(max(0.0, self._flush_s - (time.monotonic() - start)))
        while len(self.buffer) and not self.publish_failing:  # drain what is left on a clean stop
            if not self.flush():
                break

    def refresh_subscription(self, force: bool = False) -> None:
        now = self._clock.now_ms()
        if not force and now - self._refreshed_ms < self._refresh_ms:
            return
        self._refreshed_ms = now
        try:
            instruments = self._subscription()
        except Exception:
            log.exception("reading the subscription failed; keeping %d instruments", len(self.instruments))
            return
        if {(i.exchange, i.symbol) for i in instruments} != {
            (i.exchange, i.symbol) for i in self.instruments
        }:
            log.info("subscription: %d instruments", len(instruments))
            self.instruments = instruments
            self._feed.set_instruments(instruments)
            if self._history is not None:
                self._history.subscribed(instruments)

    def track_outage(self) -> None:
        """An outage is the time no provider streamed, or a failover from one provider to another (the old one
        went stale or dropped first); when one ends, its span goes to broker history. It is counted from the
        last published tick (what came after it was missed), or from when it was noticed."""
        if self._history is None:
            return
        state, now = self.state(), self._clock.now_ms()
        since = min(now, self.last_tick_ms or now)
        if state in OUTAGE_STATES and self._outage_from is None:
            self._outage_from = since
        elif state == "streaming":
            active = self._feed.provider_name
            if self._outage_from is not None:
                self._history.recovered(self.instruments, self._outage_from, now)
                self._outage_from = None
            elif self._streaming_with not in (None, active):  # failed over within one supervision step
                self._history.recovered(self.instruments, since, now)
            self._streaming_with = active

    def state(self) -> str:
        if self._stop.is_set():
            return "stopped"
        if self._feed.active is None:
            needs_login = all(s.state.value == "needs_login" for s in self._feed.slots)
            return "needs_login" if needs_login else "reconnecting"
        return "degraded" if self.publish_failing else "streaming"

    def heartbeat(self, state: str | None = None) -> None:
        now = self._clock.now_ms()
        active = self._feed.active
        streaming = getattr(active.provider, "streaming", None) if active else None
        self._status.heartbeat(
            FeedStatus(
                feed_id=self._feed_id,
                provider=self._feed.provider_name,
                state=state or self.state(),
                heartbeat_ms=now,
                last_tick_ms=self.last_tick_ms,
                ticks_published=self.published,
                instruments=streaming if isinstance(streaming, int) else len(self.instruments),
            )
        )
        for slot in self._feed.slots:  # one row per provider, so "kite needs login" is visible on its own
            self._status.heartbeat(
                FeedStatus(
                    feed_id=f"{self._feed_id}:{slot.provider.name}",
                    provider=slot.provider.name,
                    state=slot.state.value,
                    heartbeat_ms=now,
                    last_tick_ms=slot.last_tick_ms,
                    ticks_published=0,
                    instruments=len(self.instruments) if slot is active else 0,
                )
            )

    def stop(self) -> None:
        self._stop.set()

    def run(self, supervise_s: float = 0.5) -> None:
        self.instruments = self._subscription()
        self._refreshed_ms = self._clock.now_ms()
        if self._history is not None:
            self._history.subscribed(self.instruments)
        self._feed.start(self.instruments, self.on_ticks)
        publisher = threading.Thread(target=self._publish_loop, name="feed-publisher", daemon=True)
        publisher.start()
        last_beat = 0.0
        try:
            while not self._stop.is_set():
                try:
                    self._feed.supervise()
                    self.track_outage()
                    self.refresh_subscription()
                    now = time.monotonic()
                    if now - last_beat >= 1.0:
                        self.heartbeat()
                        last_beat = now
                except Exception:  # never let the supervisor die: health shows the failure
                    log.exception("feed supervision failed")
                self._stop.wait(supervise_s)
        finally:
            self._stop.set()
            self._feed.stop()
            publisher.join(timeout=10)
            try:
                self.heartbeat("stopped")
            except Exception:
                log.exception("final heartbeat failed")


class Provider(Protocol):
    name: str

    def next_ticks(self, now_ms: int) -> list[Tick]: ...

    @property
    def instruments(self) -> list: ...


class FeedRunner:
    """The pull loop: step a provider every ``interval_ms`` and publish what it returns."""

    def __init__(
        self,
        provider: Provider,
        publisher: TickPublisher,
        status: FeedStatusRepository,
        clock: Clock,
        interval_ms: int,
        feed_id: str = "primary",
    ) -> None:
        self._provider, self._publisher, self._status = provider, publisher, status
        self._clock = clock
        self._interval = interval_ms / 1000
        self._feed_id = feed_id
        self.published = 0
        self.last_tick_ms = 0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def step(self) -> int:
        ticks = self._provider.next_ticks(self._clock.now_ms())
        if ticks:
            self.published += self._publisher.publish(ticks)
            self.last_tick_ms = max(t.ts_ms for t in ticks)
        return len(ticks)

    def heartbeat(self, state: str = "streaming") -> None:
        self._status.heartbeat(
            FeedStatus(
                feed_id=self._feed_id,
                provider=self._provider.name,
                state=state,
                heartbeat_ms=self._clock.now_ms(),
                last_tick_ms=self.last_tick_ms,
                ticks_published=self.published,
                instruments=len(self._provider.instruments),
            )
        )

    def run(self, max_steps: int | None = None) -> None:
        steps = 0
        last_beat = 0.0
        while not self._stop.is_set() and (max_steps is None or steps < max_steps):
            try:
                self.step()
                state = "streaming"
            except Exception:  # keep the connection alive; health shows the failure
                log.exception("publishing ticks failed")
                state = "degraded"
            now = self._clock.now_ms() / 1000
            if now - last_beat >= 1.0 or state != "streaming":
                self.heartbeat(state)
                last_beat = now
            steps += 1
            self._stop.wait(self._interval)
        self.heartbeat("stopped")
