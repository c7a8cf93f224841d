"""The tick path as ``tick_processor`` runs it, beside the numpy kernel alone and pandas, in one run.

2,000,000 ticks over 500 instruments in one 6h15m session (exchange time rising, cumulative day volume per
instrument, dense per-instrument sequence numbers as ``mantra.feed.base.Stamper`` hands them out), cut into
Kinesis-sized batches of 10,000 records. Five timeframes (1m, 5m, 15m, 1h, 1d). Printed:

1. the kernel alone (``candle_kernel.aggregate_arrays``) on prepared column arrays;
2. pandas ``groupby(...).agg(first, max, min, last, max, size)`` on the same arrays (the peer);
3. the product path from ``Tick`` objects to candle deltas (``candles.aggregate_fast``: one pass to columns,
   dedupe on (symbol, seq) in numpy, the kernel, a ``CandleDelta`` per touched candle), and the same up to the
   columnar deltas only;
4. the whole handler: Kinesis records in (base64 JSON, as the event source mapping delivers them) ->
   ``functions/tick_processor/handler.lambda_handler`` -> ``TickProcessor.process`` -> the quote and candle writes
   planned, with in-memory repositories (no I/O), a warm consumer (it keeps what it wrote).

    .venv/bin/python bench/bench_tick_path.py                  # 2,000,000 ticks, 500 instruments
    .venv/bin/python bench/bench_tick_path.py --ticks 500000 --handler-ticks 200000
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the handler is imported as functions.*

import numpy as np
from mantra.clock import ManualClock
from mantra.domain import Alert, Candle, Quote, Tick
from mantra.market.candle_kernel import aggregate_arrays
from mantra.market.candles import TickColumns, aggregate_columns, aggregate_fast
from mantra.market.ticks import TickProcessor

ROOT = Path(__file__).resolve().parents[1]
TFS = ("1m", "5m", "15m", "1h", "1d")
OPEN_MS = 1_795_400_100_000 - (1_795_400_100_000 - 13_500_000) % 86_400_000  # a 09:15 IST
BASE_SEQ = OPEN_MS * 1000  # the Stamper's per-run base


def make_arrays(n: int, symbols: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.sort(OPEN_MS + rng.integers(0, 375 * 60_000, n)).astype(np.int64)
    sym = rng.integers(0, symbols, n).astype(np.int64)
    price = (100_000 + 5 * rng.integers(-1_000, 1_000, n)).astype(np.int64)
    qty = rng.integers(1, 500, n).astype(np.int64)
    order = np.lexsort((np.arange(n), sym))  # per instrument, in time order
    cum = np.empty(n, dtype=np.int64)
    seq = np.empty(n, dtype=np.int64)
    s_sorted = sym[order]
    first = np.r_[0, np.flatnonzero(np.diff(s_sorted)) + 1]
    counts = np.diff(np.r_[first, n])
    within = np.arange(n) - np.repeat(first, counts)
    cs = np.cumsum(qty[order])
    cum[order] = cs - np.repeat(np.r_[0, cs[first[1:] - 1]], counts)
    seq[order] = BASE_SEQ + 1 + within
    return {"sym": sym, "ts": ts, "seq": seq, "price": price, "cum": cum, "qty": qty}


def make_ticks(a: dict[str, np.ndarray]) -> list[Tick]:
    out = []
    for s, t, q, p, v, lq in zip(
        *(a[k].tolist() for k in ("sym", "ts", "seq", "price", "cum", "qty")), strict=True
    ):
        token = str(10_000 + s)
        out.append(
            Tick.model_construct(
                tick_id=f"{token}-{q}", seq=q, symbol=f"SYM{s:03d}", token=token, ts_ms=t, ltp_paise=p,
                last_qty=lq, volume=v, bid_paise=p - 5, ask_paise=p + 5, open_paise=None, prev_close_paise=None,
                oi=None, source="live",
            )
        )  # fmt: skip
    return out


def records(ticks: Sequence[Tick]) -> list[dict[str, Any]]:
    """Kinesis records as Lambda's event source mapping delivers them."""
    out = []
    for i, t in enumerate(ticks):
        out.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": t.token,
                    "sequenceNumber": f"4959{i:052d}",
                    "data": base64.b64encode(t.model_dump_json().encode()).decode(),
                    "approximateArrivalTimestamp": t.ts_ms / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:4959{i:052d}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/tick-processor",
                "awsRegion": "ap-south-1",
                "eventSourceARN": "arn:aws:kinesis:ap-south-1:123456789012:stream/ticks",
            }
        )
    return out


class MemoryQuotes:
    """The quote repository's contract in memory (the write is conditional on the version)."""

    def __init__(self) -> None:
        self.items: dict[str, Quote] = {}
        self.candles: dict[tuple[str, str, int], Candle] = {}
        self.writes = 0

    def get(self, symbol: str) -> Quote | None:
        return self.items.get(symbol)

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {s: self.items[s] for s in symbols if s in self.items}

    def put_many(self, quotes: Iterable[Quote]) -> None:
        self.items.update({q.symbol: q for q in quotes})

    def all(self) -> list[Quote]:
        return list(self.items.values())

    def apply(self, quote: Quote, prev_seq: int | None, candles: Iterable[Candle]) -> bool:
        cur = self.items.get(quote.symbol)
        if (cur.version if cur else 0) != quote.version - 1:
            return False
        self.items[quote.symbol] = quote
        for c in candles:
            self.candles[(c.symbol, c.timeframe, c.start_ms)] = c
            self.writes += 1
        return True

    def apply_group(self, writes: Sequence[tuple[Quote, int | None, Sequence[Candle]]]) -> bool:
        return all(self.apply(q, p, c) for q, p, c in writes)


class MemoryCandles:
    def __init__(self, store: dict[tuple[str, str, int], Candle]) -> None:
        self.items = store

    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        return {k: self.items[k] for k in keys if k in self.items}

    def put_many(self, candles: Iterable[Candle]) -> None:
        self.items.update({(c.symbol, c.timeframe, c.start_ms): c for c in candles})

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        rows = [
            c
            for (s, tf, st), c in self.items.items()
            if s == symbol and tf == timeframe and start_ms <= st <= end_ms
        ]
        return sorted(rows, key=lambda c: c.start_ms)[:limit]  # fmt: skip

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        rows = [
            c for (s, tf, st), c in self.items.items() if s == symbol and tf == timeframe and st <= end_ms
        ]
        return sorted(rows, key=lambda c: c.start_ms)[-limit:]  # fmt: skip


class NoAlerts:
    def active_for_symbols(self, symbols: Iterable[str]) -> dict[str, list[Alert]]:
        return {}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), min(runs)


def batches(n: int, size: int) -> list[slice]:
    return [slice(i, min(n, i + size)) for i in range(0, n, size)]


def kernel(a: dict[str, np.ndarray], cuts: list[slice]) -> int:
    return sum(
        len(aggregate_arrays(a["sym"][s], a["ts"][s], a["seq"][s], a["price"][s], a["cum"][s], TFS))
        for s in cuts
    )


def pandas_peer(a: dict[str, np.ndarray], cuts: list[slice]) -> Callable[[], int] | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    grids = {tf: (w, (-19_800_000 if tf == "1d" else 13_500_000)) for tf, w in
             {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}.items()}  # fmt: skip
    frames = [pd.DataFrame({k: a[k][s] for k in ("sym", "ts", "price", "cum")}) for s in cuts]

    def run() -> int:
        rows = 0
        for df in frames:
            for w, anchor in grids.values():
                b = (df.ts - anchor) // w * w + anchor
                g = df.groupby([df.sym, b], sort=False).agg(
                    open=("price", "first"), high=("price", "max"), low=("price", "min"),
                    close=("price", "last"), cum=("cum", "max"), ticks=("cum", "size"),
                )  # fmt: skip
                rows += len(g)
        return rows

    return run


def handler_path(ticks: list[Tick], size: int) -> tuple[Callable[[], int], Callable[[], None]]:
    """The real lambda_handler over Kinesis events, its container's tick processor on memory repositories."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.tick_processor import handler as tick_handler

    events = [{"Records": records(ticks[s])} for s in batches(len(ticks), size)]

    class Context(LambdaContext):
        _function_name = "tick_processor"
        _memory_limit_in_mb = 1024
        _invoked_function_arn = "arn:aws:lambda:ap-south-1:123456789012:function:tick_processor"
        _aws_request_id = "bench"

        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    class Container:
        tick_processor: TickProcessor

    box = Container()

    def fresh() -> None:
        quotes = MemoryQuotes()
        box.tick_processor = TickProcessor(
            quotes,
            MemoryCandles(quotes.candles),
            NoAlerts(),
            ManualClock(OPEN_MS),
            TFS,
            max_workers=2,  # type: ignore[arg-type]
        )

    tick_handler.get_container = lambda _settings: box  # type: ignore[assignment]
    tick_handler.get_settings = lambda: None  # type: ignore[assignment]
    logging_off()

    def run() -> int:
        fresh()
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools prints each batch's metrics (EMF)
            for e in events:
                tick_handler.lambda_handler(e, Context())
        return len(ticks)

    return run, fresh


def logging_off() -> None:
    import logging

    logging.disable(logging.WARNING)
    os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "bench"
    os.environ["POWERTOOLS_DEV"] = "false"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=2_000_000)
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--handler-ticks", type=int, default=2_000_000, help="ticks through the whole handler")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.ticks
    a = make_arrays(n, args.symbols)
    cuts = batches(n, args.batch)
    print(f"{n:,} ticks, {args.symbols} instruments, one 6h15m session, batches of {args.batch:,}, "
          f"5 timeframes, one core\n")  # fmt: skip
    print(f"{'what':<66} {'median':>9} {'best':>9} {'ticks/s':>10}")

    def line(what: str, med: float, best: float, count: int = n) -> None:
        print(f"{what:<66} {med * 1e3:>7.0f}ms {best * 1e3:>7.0f}ms {count / med / 1e6:>8.2f} M", flush=True)

    line("numpy kernel alone, prepared arrays", *timed(lambda: kernel(a, cuts), args.repeat))
    peer = pandas_peer(a, cuts)
    if peer is not None:
        import pandas as pd

        line(f"pandas {pd.__version__} groupby, same arrays (peer)", *timed(peer, args.repeat))
    ticks = make_ticks(a)
    tick_batches = [ticks[s] for s in cuts]
    line(
        "Tick objects -> columns (TickColumns.of)",
        *timed(lambda: [TickColumns.of(b) for b in tick_batches], args.repeat),
    )
    line(
        "Tick objects -> columnar deltas (columns, dedupe, kernel)",
        *timed(lambda: [aggregate_columns(TickColumns.of(b), TFS) for b in tick_batches], args.repeat),
    )
    line(
        "Tick objects -> CandleDelta per candle (aggregate_fast: product)",
        *timed(lambda: [aggregate_fast(b, TFS) for b in tick_batches], args.repeat),
    )
    m = min(args.handler_ticks, n)
    run, _ = handler_path(ticks[:m], args.batch)
    line(
        f"whole handler: Kinesis records -> writes planned ({m:,} ticks)",
        *timed(run, max(1, args.repeat - 2)),
        m,
    )


if __name__ == "__main__":
    main()
