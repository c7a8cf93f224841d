"""The feed task's loop: pull ticks from the provider, publish to Kinesis, report health."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import FeedStatus, Tick
from mantra.ports import FeedStatusRepository, TickPublisher

log = logging.getLogger(__name__)


class Provider(Protocol):
    name: str

    def next_ticks(self, now_ms: int) -> list[Tick]: ...

    @property
    def instruments(self) -> list: ...


class FeedRunner:
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
