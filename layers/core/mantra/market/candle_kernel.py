"""Vectorised candle aggregation: a batch of ticks (as arrays) -> one delta row per (symbol, timeframe, bucket).

Pure numpy, no I/O. The per-tick pass runs once, for the finest timeframe; every coarser timeframe whose grid
nests in it (5m, 15m, 1h and 1d all nest in 1m: IST has no DST and the 09:15 anchor is on the minute) is
rolled up from those groups, so its cost is per candle, not per tick. Groups use dense ids and unbuffered
ufunc.at / bincount (no sort): ~N ops per tick in total, whatever the number of timeframes.

Open and close are chosen by the (exchange time, sequence) order of the ticks, not their arrival order, so any
permutation of a batch yields the same rows. Ticks must already be unique per (symbol, seq). Volume is not summed
here: each row carries the highest day-cumulative traded volume among its ticks (``cum_volume``), from which
``mantra.market.candles`` derives the bar's volume against the bar before it.
``mantra.market.candles.aggregate`` is the pure-Python reference the tests hold this to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mantra.market.timeframes import TIMEFRAMES_MS

I64 = npt.NDArray[np.int64]
IST_OFFSET_MS = 19_800_000  # +05:30
SESSION_ANCHOR_MS = 9 * 3_600_000 + 15 * 60_000 - IST_OFFSET_MS  # 09:15 IST on 1970-01-01, in UTC ms
DAY_ANCHOR_MS = -IST_OFFSET_MS  # 00:00 IST on 1970-01-01


def grid(tf: str) -> tuple[int, int]:
    """(width, anchor) of a timeframe: bucket start = anchor + floor((ts - anchor) / width) * width."""
    width = TIMEFRAMES_MS[tf]
    return width, DAY_ANCHOR_MS if tf == "1d" else SESSION_ANCHOR_MS


def bucket_starts(ts: I64, tf: str) -> I64:
    width, anchor = grid(tf)
    out: I64 = (ts - anchor) // width * width + anchor
    return out


@dataclass(frozen=True)
class Deltas:
    """Column arrays, one row per touched candle. ``tf`` indexes the timeframes passed in."""

    sym: I64
    tf: I64
    start_ms: I64
    open_paise: I64
    open_ts: I64
    open_seq: I64
    high_paise: I64
    low_paise: I64
    close_paise: I64
    close_ts: I64
    close_seq: I64
    cum_volume: I64  # highest day-cumulative volume among the row's ticks
    ticks: I64
    late: I64

    def __len__(self) -> int:
        return len(self.sym)


@dataclass(frozen=True)
class _Groups:
    """Rows to reduce: either ticks (one each) or candles of a finer timeframe."""

    sym: I64
    start: I64
    kmin: I64  # order key of the first tick
    omin: I64  # row of the first tick (into the tick arrays)
    kmax: I64
    omax: I64
    high: I64
    low: I64
    cum: I64
    ticks: I64


def _order_keys(ts: I64, seq: I64) -> I64:
    """One int64 per tick that sorts like (ts, seq)."""
    if len(ts) == 0:
        return ts.copy()
    t0, s0 = int(ts.min()), int(seq.min())
    sbits = max(1, (int(seq.max()) - s0).bit_length())
    tbits = max(1, (int(ts.max()) - t0).bit_length())
    if sbits + tbits <= 62:
        out: I64 = ((ts - t0) << sbits) | (seq - s0)
        return out
    ranks = np.empty(len(ts), dtype=np.int64)  # rare: huge spans; rank by a real sort
    ranks[np.lexsort((seq, ts))] = np.arange(len(ts), dtype=np.int64)
    return ranks


def _reduce(rows: _Groups, width: int, anchor: int) -> tuple[_Groups, I64]:
    """Group ``rows`` by (symbol, bucket of this grid); returns the groups and each row's group id."""
    bucket = (rows.start - anchor) // width
    bmin = int(bucket.min())
    span = int(bucket.max()) - bmin + 1
    nsym = int(rows.sym.max()) + 1
    raw = rows.sym * span + (bucket - bmin)
    if nsym * span <= max(4 * len(raw), 1 << 18):
        dense = np.zeros(nsym * span, dtype=np.int64)
        dense[raw] = 1
        present = np.flatnonzero(dense)
        dense[present] = np.arange(len(present), dtype=np.int64)
        gid: I64 = dense[raw]
        keys = present
    else:
        keys, inverse = np.unique(raw, return_inverse=True)
        gid = inverse.astype(np.int64, copy=False)
    n = len(keys)
    sym = keys // span
    start = (keys % span + bmin) * width + anchor
    high = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(high, gid, rows.high)
    low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(low, gid, rows.low)
    kmin = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(kmin, gid, rows.kmin)
    kmax = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(kmax, gid, rows.kmax)
    omin = np.empty(n, dtype=np.int64)
    hit = np.flatnonzero(rows.kmin == kmin[gid])
    omin[gid[hit]] = rows.omin[hit]
    omax = np.empty(n, dtype=np.int64)
    hit = np.flatnonzero(rows.kmax == kmax[gid])
    omax[gid[hit]] = rows.omax[hit]
    cum = np.zeros(n, dtype=np.int64)
    np.maximum.at(cum, gid, rows.cum)
    ticks = np.bincount(gid, weights=rows.ticks, minlength=n).astype(np.int64) if n else np.zeros(0, np.int64)
    return _Groups(sym, start, kmin, omin, kmax, omax, high, low, cum, ticks), gid


def aggregate_arrays(
    sym: I64,
    ts: I64,
    seq: I64,
    price: I64,
    cum: I64,
    timeframes: Sequence[str],
    watermark: I64 | None = None,
    grace_ms: int = 2_000,
) -> Deltas:
    """Aggregate ticks into candle deltas for every timeframe.

    ``sym`` holds small non-negative symbol indices; ``cum`` is each tick's day-cumulative traded volume.
    ``watermark[sym]`` is the newest exchange time already
    applied for that symbol before this batch: a tick whose candle ended ``grace_ms`` or more before it is late
    (counted in ``late``; still aggregated).
    """
    sym, ts, seq = (np.asarray(a, dtype=np.int64) for a in (sym, ts, seq))
    price, cum = np.asarray(price, dtype=np.int64), np.asarray(cum, dtype=np.int64)
    n = len(ts)
    tfs = list(timeframes)
    if n == 0 or not tfs:
        z = np.zeros(0, dtype=np.int64)
        return Deltas(z, z, z, z, z, z, z, z, z, z, z, z, z, z)
    keys = _order_keys(ts, seq)
    rows = np.arange(n, dtype=np.int64)
    ticks = _Groups(sym, ts, keys, rows, keys, rows, price, price, cum, np.ones(n, dtype=np.int64))
    order = sorted(range(len(tfs)), key=lambda k: grid(tfs[k])[0])
    base_w, base_a = grid(tfs[order[0]])
    groups, _ = _reduce(ticks, base_w, base_a)

    out: list[tuple[int, _Groups, I64]] = []
    for k in order:
        width, anchor = grid(tfs[k])
        nests = width % base_w == 0 and (anchor - base_a) % base_w == 0
        if k == order[0]:
            g = groups
        elif nests:
            g, _ = _reduce(groups, width, anchor)
        else:
            g, _ = _reduce(ticks, width, anchor)
        # every tick of a candle shares its bucket, so a candle's ticks are all late or all on time
        if watermark is None:
            late = np.zeros(len(g.sym), dtype=np.int64)
        else:
            closed = g.start + width + grace_ms <= np.asarray(watermark, dtype=np.int64)[g.sym]
            late = np.where(closed, g.ticks, 0).astype(np.int64)
        out.append((k, g, late))

    def cat(f: str) -> I64:
        return np.concatenate([getattr(g, f) for _, g, _ in out])

    omin, omax = cat("omin"), cat("omax")
    return Deltas(
        sym=cat("sym"),
        tf=np.concatenate([np.full(len(g.sym), k, dtype=np.int64) for k, g, _ in out]),
        start_ms=cat("start"),
        open_paise=price[omin],
        open_ts=ts[omin],
        open_seq=seq[omin],
        high_paise=cat("high"),
        low_paise=cat("low"),
        close_paise=price[omax],
        close_ts=ts[omax],
        close_seq=seq[omax],
        cum_volume=cat("cum"),
        ticks=cat("ticks"),
        late=np.concatenate([late for _, _, late in out]),
    )
