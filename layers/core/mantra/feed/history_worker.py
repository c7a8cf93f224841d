"""Broker history for the feed task, off its supervision loop.

The runner tells the worker what happened: instruments newly subscribed (``subscribed``: backfill their last
``sessions`` sessions of 1-minute bars) and a feed outage that ended (``recovered``: repair the span it lasted for
every subscribed instrument). The worker does them one at a time in its own thread, since paced history requests
take seconds each; a failure is logged and the next job goes on. The jobs are idempotent (``HistoryRepair``), so
a restart that backfills again only asks for minutes still missing.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from mantra.domain import Instrument
from mantra.market.history_repair import HistoryRepair

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    instrument: Instrument
    start_ms: int | None = None  # None: a backfill of the configured sessions
    end_ms: int | None = None


class HistoryWorker:
    def __init__(self, repair: HistoryRepair, sessions: int = 5, background: bool = True) -> None:
        """``background``: run jobs in the worker's thread, started with the first job (else ``drain()``)."""
        self._repair, self._sessions, self._background = repair, sessions, background
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._seen: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.done = 0
        self.failed = 0

    # the runner calls these from its loop: they only queue work
    def subscribed(self, instruments: Sequence[Instrument]) -> None:
        for inst in instruments:
            if inst.symbol not in self._seen:
                self._seen.add(inst.symbol)
                self._jobs.put(Job(inst))
        self._ensure_started()

    def recovered(self, instruments: Sequence[Instrument], start_ms: int, end_ms: int) -> None:
        log.info("feed outage %d..%d: repairing %d instruments", start_ms, end_ms, len(instruments))
        for inst in instruments:
            self._jobs.put(Job(inst, start_ms, end_ms))
        self._ensure_started()

    def _ensure_started(self) -> None:
        if self._background and self._thread is None and not self._stopping.is_set():
            self.start()

    def pending(self) -> int:
        return self._jobs.qsize()

    # doing the work
    def run_one(self, job: Job) -> None:
        try:
            if job.start_ms is None or job.end_ms is None:
                report = self._repair.backfill(job.instrument, self._sessions)
            else:
                report = self._repair.repair(job.instrument, job.start_ms, job.end_ms)
        except Exception:  # one instrument's failure never stops the others
            self.failed += 1
            log.exception("broker history for %s failed", job.instrument.symbol)
            return
        if report.errors:  # the broker failed some stretches (logged by the repair): a later run asks again
            self.failed += 1
        else:
            self.done += 1

    def drain(self) -> None:
        """Run every queued job now, in this thread (tools and tests)."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self.run_one(job)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="broker-history", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._thread is not None:
            self._stopping.set()  # the job under way finishes; queued ones are left (they are idempotent)
            self._jobs.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None and not self._stopping.is_set():
            self.run_one(job)
