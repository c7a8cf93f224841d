"""Health of the platform: each dependency and the feed's freshness, checked independently."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from pydantic import BaseModel

from mantra.clock import Clock
from mantra.ports import FeedStatusRepository


class ComponentHealth(BaseModel):
    name: str
    ok: bool
    detail: str
    latency_ms: float


class HealthReport(BaseModel):
    ok: bool
    components: list[ComponentHealth]


def tcp_check(host: str, port: int) -> Callable[[], str]:
    def check() -> str:
        with socket.create_connection((host, port), timeout=1.0):
            return f"accepting connections on {host}:{port}"

    return check


class HealthService:
    def __init__(
        self,
        checks: dict[str, Callable[[], str]],
        feed: FeedStatusRepository,
        clock: Clock,
        stale_after_s: float,
    ) -> None:
        self._checks, self._feed, self._clock, self._stale_after_s = checks, feed, clock, stale_after_s

    def feed_check(self) -> str:
        status = self._feed.get("primary")
        if status is None:
            raise RuntimeError("no heartbeat from the broker feed yet")
        age = (self._clock.now_ms() - status.heartbeat_ms) / 1000
        if age > self._stale_after_s:
            raise RuntimeError(f"last heartbeat {age:.1f}s ago (stale after {self._stale_after_s:.0f}s)")
        if status.state != "streaming":
            raise RuntimeError(f"feed state is {status.state}")
        tick_age = (self._clock.now_ms() - status.last_tick_ms) / 1000
        return (
            f"{status.provider} streaming {status.instruments} instruments, "
            f"heartbeat {age:.1f}s ago, last tick {tick_age:.1f}s ago"
        )

    def report(self) -> HealthReport:
        out = []
        for name, check in {**self._checks, "feed": self.feed_check}.items():
            start = time.perf_counter()
            try:
                detail, ok = check(), True
            except Exception as exc:
                detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
            out.append(
                ComponentHealth(
                    name=name, ok=ok, detail=detail, latency_ms=(time.perf_counter() - start) * 1000
                )
            )
        return HealthReport(ok=all(c.ok for c in out), components=out)
