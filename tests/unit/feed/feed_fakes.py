"""Fakes for the feed unit tests: a scriptable provider, a recording publisher, an in-memory status store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import timebase
from mantra.clock import IST
from mantra.domain import FeedStatus, Instrument, Tick
from mantra.feed.base import NeedsLogin, ProviderUnavailable, TickSink


def ist_ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=IST).timestamp() * 1000)


SESSION_10AM = timebase.SESSION_10AM  # a Monday in a full trading week after the test moment


def inst(symbol: str, token: str | None = None, **kw: object) -> Instrument:
    return Instrument(
        symbol=symbol, token=token or f"t{symbol}", exchange="NSE", name=symbol, instrument_type="EQ", **kw
    )


def tick(symbol: str = "A", seq: int = 1, ts_ms: int = SESSION_10AM, ltp: int = 10_000) -> Tick:
    return Tick(
        tick_id=f"t{symbol}-{seq}", seq=seq, symbol=symbol, token=f"t{symbol}", ts_ms=ts_ms, ltp_paise=ltp,
        last_qty=1, volume=seq,
    )  # fmt: skip


class ScriptedProvider:
    """``fail`` is raised by the next start(); ``push`` sends ticks as the connection would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fail: Exception | None = None
        self.sink: TickSink | None = None
        self.up = False
        self.starts = 0
        self.stops = 0
        self.subscribed: list[str] = []

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        self.starts += 1
        if self.fail is not None:
            raise self.fail
        self.sink, self.up = sink, True
        self.subscribed = [i.symbol for i in instruments]

    def update(self, instruments: Sequence[Instrument]) -> None:
        self.subscribed = [i.symbol for i in instruments]

    def stop(self) -> None:
        self.stops += 1
        self.up = False

    def connected(self) -> bool:
        return self.up

    def push(self, *ticks: Tick) -> None:
        assert self.sink is not None
        self.sink(list(ticks))


__all__ = ["NeedsLogin", "ProviderUnavailable"]


class RecordingPublisher:
    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[list[Tick]] = []
        self.fail_times = fail_times

    def publish(self, ticks: Sequence[Tick]) -> int:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("kinesis said no")
        self.batches.append(list(ticks))
        return len(ticks)


class InMemoryFeedStatus:
    def __init__(self) -> None:
        self.rows: dict[str, FeedStatus] = {}
        self.beats: list[FeedStatus] = []

    def heartbeat(self, status: FeedStatus) -> None:
        self.rows[status.feed_id] = status
        self.beats.append(status)

    def get(self, feed_id: str) -> FeedStatus | None:
        return self.rows.get(feed_id)
