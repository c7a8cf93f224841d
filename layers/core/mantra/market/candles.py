"""Incremental candle aggregation: a batch of ticks becomes one delta per touched candle.

A delta merges into the stored candle by (exchange time, sequence), not arrival order, so reordered ticks inside
or across batches give the same open/close; ticks repeated inside a batch (same ``tick_id``) count once.
``aggregate`` is the readable reference; ``aggregate_fast`` gives the same deltas through the numpy kernel in
``mantra.market.candle_kernel`` and is what the tick processor runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mantra.domain import DEMO_SOURCE, Candle, Tick
from mantra.market.candle_kernel import aggregate_arrays
from mantra.market.timeframes import TIMEFRAMES_MS, bucket_start_ms

LATE_GRACE_MS = 2_000


@dataclass(slots=True)
class CandleDelta:
    symbol: str
    timeframe: str
    start_ms: int
    open_paise: int
    open_ts: int
    high_paise: int
    low_paise: int
    close_paise: int
    close_ts: int
    volume: int
    ticks: int
    open_seq: int = 0
    close_seq: int = 0
    late: int = 0  # ticks in this delta that arrived after their candle had closed

    def add(self, tick: Tick) -> None:
        if (tick.ts_ms, tick.seq) < (self.open_ts, self.open_seq):
            self.open_paise, self.open_ts, self.open_seq = tick.ltp_paise, tick.ts_ms, tick.seq
        if (tick.ts_ms, tick.seq) >= (self.close_ts, self.close_seq):
            self.close_paise, self.close_ts, self.close_seq = tick.ltp_paise, tick.ts_ms, tick.seq
        self.high_paise = max(self.high_paise, tick.ltp_paise)
        self.low_paise = min(self.low_paise, tick.ltp_paise)
        self.volume += tick.last_qty
        self.ticks += 1


DeltaKey = tuple[str, str, int]


def dedupe(ticks: Iterable[Tick]) -> list[Tick]:
    seen: set[str] = set()
    out = []
    for t in ticks:
        if t.tick_id not in seen:
            seen.add(t.tick_id)
            out.append(t)
    return out


def _is_late(start_ms: int, tf: str, watermark: int | None, grace_ms: int) -> bool:
    return watermark is not None and start_ms + TIMEFRAMES_MS[tf] + grace_ms <= watermark


def aggregate(
    ticks: Sequence[Tick],
    timeframes: Sequence[str],
    watermarks: Mapping[str, int] | None = None,
    grace_ms: int = LATE_GRACE_MS,
) -> dict[DeltaKey, CandleDelta]:
    """The reference: one delta per (symbol, timeframe, bucket). ``watermarks[symbol]`` is the newest exchange
    time applied before this batch; a tick whose candle ended ``grace_ms`` before it is counted in ``late``."""
    deltas: dict[DeltaKey, CandleDelta] = {}
    for tick in dedupe(ticks):
        wm = watermarks.get(tick.symbol) if watermarks else None
        for tf in timeframes:
            start = bucket_start_ms(tick.ts_ms, tf)
            key = (tick.symbol, tf, start)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = CandleDelta(
                    tick.symbol,
                    tf,
                    start,
                    tick.ltp_paise,
                    tick.ts_ms,
                    tick.ltp_paise,
                    tick.ltp_paise,
                    tick.ltp_paise,
                    tick.ts_ms,
                    tick.last_qty,
                    1,
                    tick.seq,
                    tick.seq,
                )
            else:
                delta.add(tick)
            if _is_late(start, tf, wm, grace_ms):
                delta.late += 1
    return deltas


def aggregate_fast(
    ticks: Sequence[Tick],
    timeframes: Sequence[str],
    watermarks: Mapping[str, int] | None = None,
    grace_ms: int = LATE_GRACE_MS,
) -> dict[DeltaKey, CandleDelta]:
    """Same result as ``aggregate`` through the vectorised kernel (ticks deduped by id first)."""
    unique = dedupe(ticks)
    if not unique:
        return {}
    symbols: dict[str, int] = {}
    sym = np.fromiter((symbols.setdefault(t.symbol, len(symbols)) for t in unique), np.int64, len(unique))
    ts = np.fromiter((t.ts_ms for t in unique), np.int64, len(unique))
    seq = np.fromiter((t.seq for t in unique), np.int64, len(unique))
    price = np.fromiter((t.ltp_paise for t in unique), np.int64, len(unique))
    qty = np.fromiter((t.last_qty for t in unique), np.int64, len(unique))
    names = list(symbols)
    wm = None
    if watermarks:
        lowest = np.iinfo(np.int64).min // 2
        wm = np.array([watermarks.get(s, lowest) for s in names], dtype=np.int64)
    tfs = list(timeframes)
    d = aggregate_arrays(sym, ts, seq, price, qty, tfs, wm, grace_ms)
    cols = [
        c.tolist()
        for c in (
            d.sym,
            d.tf,
            d.start_ms,
            d.open_paise,
            d.open_ts,
            d.high_paise,
            d.low_paise,
            d.close_paise,
            d.close_ts,
            d.volume,
            d.ticks,
            d.open_seq,
            d.close_seq,
            d.late,
        )
    ]
    out: dict[DeltaKey, CandleDelta] = {}
    for s, k, start, o, ots, h, lo, c, cts, v, n, oseq, cseq, late in zip(*cols, strict=True):
        key = (names[s], tfs[k], start)
        out[key] = CandleDelta(names[s], tfs[k], start, o, ots, h, lo, c, cts, v, n, oseq, cseq, late)
    return out


def keep_apart(stored: Candle | None, delta: CandleDelta, demo: bool) -> Candle | None:
    """Merge a batch's delta unless that would mix the demo feed with market data: a demo tick never changes
    a real bar (None: nothing to write), and a real tick replaces a demo bar instead of adding to it."""
    if demo:
        if stored is not None and not stored.is_demo:
            return None
        return merge(stored, delta).model_copy(update={"source": DEMO_SOURCE})
    if stored is not None and stored.is_demo:
        stored = None
    return merge(stored, delta)


def merge(stored: Candle | None, delta: CandleDelta) -> Candle:
    if stored is None:
        return Candle(
            symbol=delta.symbol,
            timeframe=delta.timeframe,
            start_ms=delta.start_ms,
            open_paise=delta.open_paise,
            high_paise=delta.high_paise,
            low_paise=delta.low_paise,
            close_paise=delta.close_paise,
            volume=delta.volume,
            ticks=delta.ticks,
            first_tick_ms=delta.open_ts,
            last_tick_ms=delta.close_ts,
            first_seq=delta.open_seq,
            last_seq=delta.close_seq,
            late_ticks=delta.late,
        )
    earlier = (delta.open_ts, delta.open_seq) < (stored.first_tick_ms, stored.first_seq)
    later = (delta.close_ts, delta.close_seq) >= (stored.last_tick_ms, stored.last_seq)
    return Candle(
        symbol=stored.symbol,
        timeframe=stored.timeframe,
        start_ms=stored.start_ms,
        open_paise=delta.open_paise if earlier else stored.open_paise,
        high_paise=max(stored.high_paise, delta.high_paise),
        low_paise=min(stored.low_paise, delta.low_paise),
        close_paise=delta.close_paise if later else stored.close_paise,
        volume=stored.volume + delta.volume,
        ticks=stored.ticks + delta.ticks,
        first_tick_ms=delta.open_ts if earlier else stored.first_tick_ms,
        last_tick_ms=delta.close_ts if later else stored.last_tick_ms,
        first_seq=delta.open_seq if earlier else stored.first_seq,
        last_seq=delta.close_seq if later else stored.last_seq,
        late_ticks=stored.late_ticks + delta.late,
        source=stored.source,
    )
