"""What every market-data provider looks like to the runner: push ticks to a callback, say how it is doing.

A provider is started with the instruments to stream and a ``TickSink``; it calls the sink from its own thread(s)
with ticks already mapped to our ``Tick`` (integer paise, epoch-ms UTC exchange time, ``tick_id``/``seq``). It
raises ``NeedsLogin`` when a human has to act (a Kite request token from the browser redirect, a wrong TOTP
secret) and ``ProviderUnavailable`` when it simply cannot connect now; the failover decides what to do next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from mantra.clock import Clock
from mantra.domain import Instrument, Tick

TickSink = Callable[[list[Tick]], None]


class ProviderState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STALE = "stale"
    DISCONNECTED = "disconnected"
    NEEDS_LOGIN = "needs_login"
    BACKOFF = "backoff"


class FeedError(Exception):
    """Base of the errors a provider raises to the failover."""


class NeedsLogin(FeedError):
    """The broker session cannot be (re)made without a person: fall back and retry rarely."""


class ProviderUnavailable(FeedError):
    """Connecting failed or the connection dropped: back off and try again."""


class Provider(Protocol):
    name: str

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        """Log in if needed and connect; returns once streaming has begun (or raises ``FeedError``)."""
        ...

    def update(self, instruments: Sequence[Instrument]) -> None:
        """Change the subscription while connected."""
        ...

    def stop(self) -> None: ...

    def connected(self) -> bool:
        """False once the broker connection has dropped (the failover then reconnects or fails over)."""
        ...


class Stamper:
    """Gives broker ticks our ``tick_id`` and ``seq``: per instrument, a dense counter on top of a per-run base.

    An instrument's base is the wall clock in microseconds when this stamper first stamps it, so a later run
    (a restarted task, a provider taking over after a failover) starts above every sequence an earlier one
    handed out (that one would have had to stamp a million ticks a second for the instrument to catch up; the
    feed runner's ``SeqGuard`` still bumps any tick that would not rise, e.g. on a failback). Within a run the numbers are dense, one per
    tick, so the tick processor's window of seen sequences (``mantra.market.ticks.SEEN_WINDOW``) spans that
    many ticks of the instrument, not that many microseconds: a tick reordered across batches is recognised.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, token: str) -> tuple[str, int]:
        with self._lock:
            last = self._last.get(token)
            seq = (last if last is not None else self._clock.now_ms() * 1000) + 1
            self._last[token] = seq
        return f"{token}-{seq}", seq


def rupees_to_paise(price: float | int) -> int:
    """Broker SDKs hand out rupees as floats (Kite); round to the nearest paisa, never truncate."""
    return round(float(price) * 100)
