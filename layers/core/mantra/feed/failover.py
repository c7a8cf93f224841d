"""Keeps one provider streaming: fails over down the configured order when the active one disconnects, goes
stale (no tick for ``stale_after_s`` during market hours) or needs a person to log in, and fails back up the
order when a preferred provider can be reached again. Reconnects back off exponentially with jitter."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mantra.clock import Clock
from mantra.domain import Instrument, Tick
from mantra.feed.base import NeedsLogin, Provider, ProviderState, TickSink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay_s(self, failures: int, rng: random.Random) -> float:
        """Exponential with "equal jitter": half the step fixed, half random, so retries spread out."""
        step = min(self.cap_s, self.base_s * 2 ** max(0, failures - 1))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass
class Slot:
    provider: Provider
    state: ProviderState = ProviderState.IDLE
    failures: int = 0
    next_try_ms: int = 0
    last_tick_ms: int = 0
    started_ms: int = 0
    error: str = ""


class FailoverFeed:
    def __init__(
        self,
        providers: Sequence[Provider],
        clock: Clock,
        stale_after_s: float,
        market_open: Callable[[int], bool],
        backoff: Backoff = Backoff(),
        login_retry_s: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        if not providers:
            raise ValueError("the feed needs at least one provider")
        self.slots = [Slot(p) for p in providers]
        self._clock, self._stale_ms = clock, int(stale_after_s * 1000)
        self._market_open, self._backoff, self._login_retry_ms = (
            market_open,
            backoff,
            int(login_retry_s * 1000),
        )
        self._rng = rng or random.Random()
        self._sink: TickSink | None = None
        self._instruments: list[Instrument] = []
        self._lock = threading.RLock()
        self.active: Slot | None = None
        # the slot being started while none is active: its first ticks (sent before start() returns, as a
        # broker's socket does once subscribed) are the feed's, not stragglers
        self._starting: Slot | None = None

    # --- wiring ------------------------------------------------------------------------------------------
    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        self._instruments, self._sink = list(instruments), sink
        self.supervise()

    def set_instruments(self, instruments: Sequence[Instrument]) -> None:
        with self._lock:
            self._instruments = list(instruments)
            if self.active is not None:
                try:
                    self.active.provider.update(self._instruments)
                except Exception as exc:  # the next supervise() sees the dropped connection
                    log.warning("resubscribing on %s failed: %s", self.active.provider.name, exc)

    def stop(self) -> None:
        with self._lock:
            for slot in self.slots:
                if slot.state not in (ProviderState.IDLE, ProviderState.NEEDS_LOGIN, ProviderState.BACKOFF):
                    self._quietly_stop(slot)
                    slot.state = ProviderState.IDLE
            self.active = None

    def _sink_for(self, slot: Slot) -> TickSink:
        def on_ticks(ticks: list[Tick]) -> None:
            slot.last_tick_ms = self._clock.now_ms()
            if slot.state is ProviderState.STALE:
                slot.state = ProviderState.STREAMING
            if (slot is self.active or slot is self._starting) and self._sink is not None:
                slot.failures = 0
                self._sink(ticks)

        return on_ticks

    # --- the loop the runner calls about once a second ---------------------------------------------------
    def supervise(self) -> None:
        with self._lock:
            now = self._clock.now_ms()
            active = self.active
            if active is not None:
                problem = self._problem(active, now)
                if problem:
                    log.warning("%s %s; failing over", active.provider.name, problem)
                    self._quietly_stop(active)
                    self._fail(active, now, problem)
                    self.active = None
            # try providers in order: anyone preferred over the active one whose time has come
            for slot in self.slots:
                if slot is self.active:
                    break
                if now < slot.next_try_ms:
                    continue
                # with nobody streaming, the one starting takes its ticks from the first; while failing back,
                # the active one keeps them until the switch (both at once would count every trade twice)
                self._starting = slot if self.active is None else None
                try:
                    started = self._try_start(slot, now)
                    if started:
                        if self.active is not None:
                            log.info(
                                "failing back from %s to %s", self.active.provider.name, slot.provider.name
                            )
                            self._quietly_stop(self.active)
                            self.active.state = ProviderState.IDLE
                        self.active = slot
                finally:
                    self._starting = None
                if started:
                    break

    def _problem(self, slot: Slot, now: int) -> str:
        if not slot.provider.connected():
            return "disconnected"
        if self._market_open(now) and now - max(slot.last_tick_ms, slot.started_ms) > self._stale_ms:
            slot.state = ProviderState.STALE
            return f"stale: no tick for {(now - max(slot.last_tick_ms, slot.started_ms)) / 1000:.1f}s"
        return ""

    def _try_start(self, slot: Slot, now: int) -> bool:
        name = slot.provider.name
        slot.state = ProviderState.CONNECTING
        try:
            slot.provider.start(self._instruments, self._sink_for(slot))
        except NeedsLogin as exc:
            slot.state, slot.error = ProviderState.NEEDS_LOGIN, str(exc)
            slot.next_try_ms = now + self._login_retry_ms
            log.warning("%s needs login: %s (next check in %.0fs)", name, exc, self._login_retry_ms / 1000)
            return False
        except Exception as exc:
            self._quietly_stop(slot)
            self._fail(slot, now, f"{type(exc).__name__}: {exc}")
            return False
        slot.state, slot.error, slot.started_ms = ProviderState.STREAMING, "", self._clock.now_ms()
        log.info("%s streaming %d instruments", name, len(self._instruments))
        return True

    def _fail(self, slot: Slot, now: int, why: str) -> None:
        slot.failures += 1
        delay = self._backoff.delay_s(slot.failures, self._rng)
        slot.state, slot.error, slot.next_try_ms = ProviderState.BACKOFF, why, now + int(delay * 1000)
        log.warning("%s: %s; retry in %.1fs (failure %d)", slot.provider.name, why, delay, slot.failures)

    @staticmethod
    def _quietly_stop(slot: Slot) -> None:
        try:
            slot.provider.stop()
        except Exception as exc:
            log.warning("stopping %s failed: %s", slot.provider.name, exc)

    # --- what the health record shows --------------------------------------------------------------------
    @property
    def provider_name(self) -> str:
        return self.active.provider.name if self.active else self.slots[0].provider.name

    def states(self) -> dict[str, str]:
        return {s.provider.name: s.state.value for s in self.slots}

    def summary(self) -> str:
        return ", ".join(
            f"{s.provider.name}={s.state.value}" + (f" ({s.error})" if s.error else "") for s in self.slots
        )
