"""Known traffic for the fault cases, and the exact checks on what it must become.

Every case trades on its own session day (successive NSE trading Mondays after the test moment, handed out in
run order) with sequence numbers that only grow across the run, as a broker's per-instrument counters do, so a
case never sees another's candles and the quotes only move forward.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import timebase
from mantra.clock import SystemClock
from mantra.domain import Candle, Instrument, Tick
from mantra.feed.base import TickSink
from mantra.feed.failover import FailoverFeed
from mantra.feed.runner import StreamingFeedRunner
from mantra.market.instruments import demo_instruments
from mantra.market.timeframes import bucket_start_ms
from mantra.settings import Settings
from mantra.store.aws import KinesisTickPublisher
from mantra.store.repositories import (
    DynamoCandleRepository,
    DynamoFeedStatusRepository,
    DynamoQuoteRepository,
)

TOKENS = {i.symbol: i.token for i, _ in demo_instruments()}
BASE_PRICES = {i.symbol: p for i, p in demo_instruments()}
_days: list[date] = []


def next_session_day() -> date:
    """A fresh trading Monday, later than every one handed out before."""
    after = _days[-1] if _days else timebase.SESSION_DAY - timedelta(days=1)
    _days.append(timebase.trading_monday(after))
    return _days[-1]


@dataclass
class Tape:
    """Ticks of one case: every distinct tick sent, by symbol; ``make`` numbers them per instrument."""

    day: date
    seq_base: int
    sent: dict[str, list[Tick]] = field(default_factory=lambda: defaultdict(list))
    _next: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fresh(cls) -> Tape:
        # sequence numbers from the wall clock in microseconds, as the feed's Stamper makes them
        return cls(next_session_day(), SystemClock().now_ms() * 1000)

    def make(
        self, symbol: str, n: int, step_ms: int = 700, drift: Callable[[int], int] | None = None
    ) -> list[Tick]:
        """``n`` new ticks of ``symbol`` from 09:15 IST, ``step_ms`` apart, over several 1-minute candles."""
        out = []
        base_price = BASE_PRICES[symbol]
        start = timebase.ist_ms(self.day, 9, 15)
        for _ in range(n):
            i = self._next.get(symbol, 0)
            self._next[symbol] = i + 1
            seq = self.seq_base + i
            price = base_price + (drift(i) if drift else (i * 37) % 500 - 250)
            qty = 1 + (i * 7) % 50
            t = Tick(
                tick_id=f"{TOKENS[symbol]}-{seq}",
                seq=seq,
                symbol=symbol,
                token=TOKENS[symbol],
                ts_ms=start + i * step_ms,
                ltp_paise=price,
                last_qty=qty,
                volume=0,
                bid_paise=price - 5,
                ask_paise=price + 5,
            )
            out.append(t.model_copy(update={"volume": sum(x.last_qty for x in self.sent[symbol]) + qty}))
            self.sent[symbol].append(out[-1])
        return out

    def symbols(self) -> list[str]:
        return list(self.sent)

    def total_ticks(self) -> int:
        return sum(len(v) for v in self.sent.values())


def expected_candles(ticks: Iterable[Tick], timeframe: str) -> dict[int, dict[str, int]]:
    """What one instrument's candles must hold: volume, tick count, OHLC (open/close by time, then seq)."""
    by_start: dict[int, list[Tick]] = defaultdict(list)
    for t in ticks:
        by_start[bucket_start_ms(t.ts_ms, timeframe)].append(t)
    out = {}
    for start, ts in by_start.items():
        ordered = sorted(ts, key=lambda t: (t.ts_ms, t.seq))
        out[start] = {
            "volume": sum(t.last_qty for t in ts),
            "ticks": len(ts),
            "open": ordered[0].ltp_paise,
            "close": ordered[-1].ltp_paise,
            "high": max(t.ltp_paise for t in ts),
            "low": min(t.ltp_paise for t in ts),
        }
    return out


def _shape(c: Candle) -> dict[str, int]:
    return {
        "volume": c.volume,
        "ticks": c.ticks,
        "open": c.open_paise,
        "close": c.close_paise,
        "high": c.high_paise,
        "low": c.low_paise,
    }


def stored_candles(symbol: str, timeframe: str, day: date) -> dict[int, dict[str, int]]:
    start, end = timebase.ist_ms(day), timebase.ist_ms(day + timedelta(days=1)) - 1
    return {
        c.start_ms: _shape(c) for c in DynamoCandleRepository().range(symbol, timeframe, start, end, 2000)
    }


def candle_mismatches(tape: Tape, timeframes: tuple[str, ...] = ("1m", "5m", "1d")) -> list[str]:
    """Every difference between what was sent and what the candles and quotes hold; empty when exact."""
    problems = []
    for symbol, ticks in tape.sent.items():
        for tf in timeframes:
            want, got = expected_candles(ticks, tf), stored_candles(symbol, tf, tape.day)
            for start in sorted(set(want) | set(got)):
                if want.get(start) != got.get(start):
                    problems.append(
                        f"{symbol} {tf} @{start}: sent {want.get(start)}, stored {got.get(start)}"
                    )
        quote = DynamoQuoteRepository().get(symbol)
        last = max(ticks, key=lambda t: t.seq)
        if quote is None or quote.seq != last.seq or quote.ltp_paise != last.ltp_paise:
            problems.append(f"{symbol} quote: want seq {last.seq} ltp {last.ltp_paise}, stored {quote}")
    return problems


def put_records(kinesis: Any, stream: str, records: list[tuple[str, bytes]]) -> dict[str, str]:
    """PutRecords (all or nothing, as the cases send few); the highest sequence number written per shard."""
    last: dict[str, str] = {}
    for i in range(0, len(records), 500):
        chunk = records[i : i + 500]
        resp = kinesis.put_records(
            StreamName=stream, Records=[{"PartitionKey": k, "Data": d} for k, d in chunk]
        )
        assert resp["FailedRecordCount"] == 0, resp
        for r in resp["Records"]:
            if int(r["SequenceNumber"]) > int(last.get(r["ShardId"], "0")):
                last[r["ShardId"]] = r["SequenceNumber"]
    return last


def checkpoints(checkpoint_dir: Path, function: str = "tick_processor") -> dict[str, int]:
    out: dict[str, int] = {}
    for f in checkpoint_dir.glob(f"kinesis-{function}*.json"):
        try:
            out.update({k: int(v) for k, v in json.loads(f.read_text()).items()})
        except ValueError:
            continue  # being replaced; read it next time
    return out


def wait_drained(checkpoint_dir: Path, last: dict[str, str], timeout_s: float = 60) -> float:
    """Until the stream consumer's checkpoints pass every record written; returns the seconds waited."""
    t0 = time.monotonic()
    while True:
        done = checkpoints(checkpoint_dir)
        if all(done.get(shard, -1) >= int(seq) for shard, seq in last.items()):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(
                f"tick_processor did not drain the stream in {timeout_s}s: at {done}, want {last}"
            )
        time.sleep(0.1)


def until(predicate: Callable[[], Any], timeout_s: float = 30.0, every_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


class TapeProvider:
    """A feed provider streaming a tape: one new tick per symbol every ``every_s``, from its own thread, as the
    brokers' SDKs call back. ``hold()`` stops it making more."""

    name = "tape"

    def __init__(
        self, tape: Tape, drifts: dict[str, Callable[[int], int] | None], every_s: float = 0.05
    ) -> None:
        self.tape, self.drifts, self.every_s = tape, drifts, every_s
        self._stop = threading.Event()
        self._hold = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_seq: dict[str, int] = {}

    def start(self, instruments: Sequence[Instrument], sink: TickSink) -> None:
        def loop() -> None:
            while not self._stop.is_set() and not self._hold.is_set():
                ticks = [self.tape.make(s, 1, step_ms=250, drift=d)[0] for s, d in self.drifts.items()]
                self.last_seq.update({t.symbol: t.seq for t in ticks})
                sink(ticks)
                self._stop.wait(self.every_s)

        self._thread = threading.Thread(target=loop, name="tape-provider", daemon=True)
        self._thread.start()

    def update(self, instruments: Sequence[Instrument]) -> None:
        pass

    def stop(self) -> None:
        self._stop.set()

    def connected(self) -> bool:
        return not self._stop.is_set()

    def hold(self) -> None:
        self._hold.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def live_feed(
    settings: Settings, provider: TapeProvider, drain_s: float = 90
) -> Iterator[StreamingFeedRunner]:
    """The feed task's runner (buffer, requeue on a failed put, KinesisTickPublisher) over ``provider``; on
    exit the provider stops making ticks and the runner publishes everything it holds before it stops."""
    clock = SystemClock()
    feed = FailoverFeed([provider], clock, stale_after_s=3600, market_open=lambda _: False)
    runner = StreamingFeedRunner(
        feed,
        KinesisTickPublisher(settings),
        DynamoFeedStatusRepository(),
        clock,
        subscription=list,
        flush_ms=100,
        feed_id="faults",
    )
    thread = threading.Thread(target=runner.run, name="faults-feed", daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        provider.hold()
        deadline = time.monotonic() + drain_s
        while (len(runner.buffer) or runner.publish_failing) and time.monotonic() < deadline:
            time.sleep(0.1)
        runner.stop()
        thread.join(timeout=15)
    assert not len(runner.buffer), f"{len(runner.buffer)} ticks never left the feed's buffer"


def quote_seq(symbol: str) -> int:
    """The stored quote's sequence number, or -1 (also while DynamoDB Local is down)."""
    try:
        quote = DynamoQuoteRepository().get(symbol)
    except Exception:
        return -1
    return quote.seq if quote else -1


def resend_last(kinesis: Any, stream: str, tape: Tape) -> dict[str, str]:
    """Each symbol's last tick once more (a harmless duplicate): once the consumer's checkpoints pass these,
    it has read everything sent before them."""
    last = [max(ts, key=lambda t: t.seq) for ts in tape.sent.values()]
    return put_records(kinesis, stream, [(t.symbol, t.model_dump_json().encode()) for t in last])
