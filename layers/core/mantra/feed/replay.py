"""Replays recorded ticks (JSON lines of ``Tick``) as a provider, paced as they were recorded.

Recorded ``seq`` values are from the past, and downstream drops a tick whose ``seq`` is not above the stored
quote's; so by default each tick is re-timed to now (its offset from the first tick kept, scaled by ``speed``)
and re-stamped with a fresh ``tick_id``/``seq``. ``loop`` starts over at the end of the file.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from mantra.clock import Clock
from mantra.domain import Instrument, Tick
from mantra.feed.base import ProviderUnavailable, Stamper, TickSink


def read_ticks(path: Path) -> list[Tick]:
    out = []
    with path.open() as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    out.append(Tick.model_validate_json(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: not a tick: {exc}") from exc
    return out


class ReplayProvider:
    name = "replay"

    def __init__(
        self, path: Path, clock: Clock, speed: float = 1.0, loop: bool = True, retime: bool = True
    ) -> None:
        self._path, self._clock, self._speed, self._loop, self._retime = (
            path.resolve(),
            clock,
            speed,
            loop,
            retime,
        )
        self._stamper = Stamper(clock)
        self._wanted: set[str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.streaming = 0

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        try:
            ticks = read_ticks(self._path)
        except OSError as exc:
            raise ProviderUnavailable(f"cannot read {self._path}: {exc}") from exc
        if not ticks:
            raise ProviderUnavailable(f"{self._path} holds no ticks")
        ticks.sort(key=lambda t: t.ts_ms)
        self.update(instruments)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._play, args=(ticks, sink), name="replay-feed", daemon=True
        )
        self._thread.start()

    def update(self, instruments: Sequence[Instrument]) -> None:
        # an empty subscription replays everything recorded
        self._wanted = {i.symbol for i in instruments} or None
        self.streaming = len(self._wanted or ())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _play(self, ticks: list[Tick], sink: TickSink) -> None:
        while not self._stop.is_set():
            origin, started = ticks[0].ts_ms, self._clock.now_ms()
            i = 0
            while i < len(ticks) and not self._stop.is_set():
                due = started + (ticks[i].ts_ms - origin) / self._speed
                wait_ms = due - self._clock.now_ms()
                if wait_ms > 0:
                    self._stop.wait(min(wait_ms, 200) / 1000)
                    continue
                batch = []  # everything due by now goes out together
                while (
                    i < len(ticks)
                    and started + (ticks[i].ts_ms - origin) / self._speed <= self._clock.now_ms()
                ):
                    batch.append(self._out(ticks[i], started, origin))
                    i += 1
                wanted = self._wanted
                batch = [t for t in batch if wanted is None or t.symbol in wanted]
                if batch:
                    sink(batch)
            if not self._loop:
                return

    def _out(self, t: Tick, started: int, origin: int) -> Tick:
        if not self._retime:
            return t
        tick_id, seq = self._stamper.next(t.token)
        ts = started + int((t.ts_ms - origin) / self._speed)
        return t.model_copy(update={"tick_id": tick_id, "seq": seq, "ts_ms": ts})
