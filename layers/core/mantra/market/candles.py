"""Incremental candle aggregation: a batch of ticks becomes one delta per touched candle.

Prices merge into the stored candle by (exchange time, sequence), not arrival order, so reordered ticks inside or
across batches give the same open/close; a tick repeated inside a batch (same symbol and ``seq``) counts once.

Volume comes from the day's cumulative traded volume that broker ticks carry (``Tick.volume``: Kite's
``volume_traded``, SmartAPI's ``volume_trade_for_the_day``), never from summing ``last_qty``. Each live bar keeps
``cum_volume``, the session's highest cumulative up to and including the bar (a running maximum over the bars
of the session in time order), and

    volume(bar) = cum_volume(bar) - cum_volume(previous bar of the session)      (0 before the first bar)

so a session's bars sum to its highest cumulative (the exchange's day total) whatever the order of arrival:
the first tick of a session counts its whole cumulative; a duplicated snapshot or a restarted feed (the
cumulative carries on) adds nothing twice; a stale snapshot with a lower cumulative adds nothing and takes
nothing away; a late tick whose cumulative lies between its neighbours raises the earlier bar and so lowers the
next one by the same amount: ``settle`` rewrites both (and any further bar whose base moved).

``aggregate`` is the readable reference; ``aggregate_fast`` gives the same deltas through the numpy kernel in
``mantra.market.candle_kernel`` and is what the tick processor runs.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mantra.domain import DEMO_SOURCE, Candle, Tick
from mantra.market.candle_kernel import Deltas, aggregate_arrays
from mantra.market.timeframes import TIMEFRAMES_MS, bucket_start_ms

LATE_GRACE_MS = 2_000
I64 = npt.NDArray[np.int64]


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
    cum_volume: int  # the highest day-cumulative volume among the delta's ticks
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
        self.cum_volume = max(self.cum_volume, tick.volume)
        self.ticks += 1


DeltaKey = tuple[str, str, int]


def dedupe(ticks: Iterable[Tick]) -> list[Tick]:
    """The first of each (symbol, seq), in order: the feed's sequence numbers are per instrument."""
    seen: set[tuple[str, int]] = set()
    out = []
    for t in ticks:
        key = (t.symbol, t.seq)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


@dataclass(frozen=True)
class TickColumns:
    """A batch of ticks as columns, built in one pass: ``sym`` indexes ``names``."""

    names: list[str]
    sym: I64
    ts: I64
    seq: I64
    price: I64
    cum: I64

    def __len__(self) -> int:
        return len(self.sym)

    @classmethod
    def of(cls, ticks: Sequence[Tick]) -> TickColumns:
        n = len(ticks)
        ids: dict[str, int] = {}
        sym = np.fromiter(
            (ids.setdefault(s, len(ids)) for s in map(operator.attrgetter("symbol"), ticks)), np.int64, n
        )
        get = operator.attrgetter("ts_ms", "seq", "ltp_paise", "volume")
        rows: I64 = np.fromiter(map(get, ticks), np.dtype((np.int64, 4)), n).reshape(n, 4).view(np.int64)
        return cls(list(ids), sym, rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])

    def unique(self) -> TickColumns:
        """The first of each (symbol, seq), in arrival order (a stable sort keeps the first in front)."""
        n = len(self)
        if n < 2:
            return self
        order = np.lexsort((self.seq, self.sym))
        s, q = self.sym[order], self.seq[order]
        first = np.ones(n, dtype=bool)
        first[1:] = (s[1:] != s[:-1]) | (q[1:] != q[:-1])
        if first.all():
            return self
        keep = np.sort(order[first])
        return TickColumns(
            self.names, self.sym[keep], self.ts[keep], self.seq[keep], self.price[keep], self.cum[keep]
        )


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
                    tick.volume,
                    1,
                    tick.seq,
                    tick.seq,
                )
            else:
                delta.add(tick)
            if _is_late(start, tf, wm, grace_ms):
                delta.late += 1
    return deltas


def aggregate_columns(
    cols: TickColumns,
    timeframes: Sequence[str],
    watermarks: Mapping[str, int] | None = None,
    grace_ms: int = LATE_GRACE_MS,
) -> Deltas:
    """Columns in, columns out (deduplicated on (symbol, seq) first): the hot path without per-tick objects."""
    cols = cols.unique()
    wm = None
    if watermarks:
        lowest = np.iinfo(np.int64).min // 2
        wm = np.array([watermarks.get(s, lowest) for s in cols.names], dtype=np.int64)
    return aggregate_arrays(cols.sym, cols.ts, cols.seq, cols.price, cols.cum, list(timeframes), wm, grace_ms)


def aggregate_fast(
    ticks: Sequence[Tick] | TickColumns,
    timeframes: Sequence[str],
    watermarks: Mapping[str, int] | None = None,
    grace_ms: int = LATE_GRACE_MS,
) -> dict[DeltaKey, CandleDelta]:
    """Same result as ``aggregate`` through the vectorised kernel."""
    cols = ticks if isinstance(ticks, TickColumns) else TickColumns.of(ticks)
    if not len(cols):
        return {}
    d = aggregate_columns(cols, timeframes, watermarks, grace_ms)
    # one map over the columns, not a Python loop body per candle: a batch touches thousands of candles
    symbols = np.array(cols.names, dtype=object)[d.sym].tolist()
    tfs = np.array(list(timeframes), dtype=object)[d.tf].tolist()
    starts = d.start_ms.tolist()
    columns = (d.open_paise, d.open_ts, d.high_paise, d.low_paise, d.close_paise, d.close_ts, d.cum_volume)
    rest = (d.ticks, d.open_seq, d.close_seq, d.late)
    made = map(CandleDelta, symbols, tfs, starts, *(c.tolist() for c in columns), *(c.tolist() for c in rest))
    return dict(zip(zip(symbols, tfs, starts, strict=True), made, strict=True))


def _cum(stored: Candle, base: int) -> int:
    """A bar's running cumulative; a bar without one (written before cumulatives were kept) holds its volume
    on top of the bars before it."""
    return stored.cum_volume if stored.cum_volume is not None else base + stored.volume


def _base(stored: Candle, prior: int) -> int:
    """The cumulative before a stored bar."""
    if stored.cum_volume is not None:
        return stored.cum_volume - stored.volume
    return max(0, prior - stored.volume)


def settle(
    deltas: Sequence[CandleDelta], stored: Mapping[int, Candle], prior: int, demo: bool
) -> list[Candle]:
    """One series' (symbol, timeframe) deltas of one session merged into its stored bars: the bars to write.

    ``stored`` holds the series' bars of that session from the first delta's bucket on, as far as the latest
    bar written (the caller reads them only when a tick lands before it); ``prior`` is the session's
    cumulative before the first bar when no stored bar says so (the quote's, or 0 for a new session). Bars
    after the deltas are rewritten while their base moves (a late tick took volume from them).

    The demo feed never mixes with market data: a demo delta never changes a real bar, and a live one replaces
    a demo bar (its counter is not the exchange's, so it gives no base either).
    """
    if demo:
        real = {s for s, c in stored.items() if not c.is_demo}
        deltas = [d for d in deltas if d.start_ms not in real]
        stored = {s: c for s, c in stored.items() if c.is_demo}
    else:
        if any(c.is_demo for c in stored.values()):
            prior = 0
        stored = {s: c for s, c in stored.items() if not c.is_demo}
    if not deltas:
        return []
    by_start = {d.start_ms: d for d in deltas}
    first, last = min(by_start), max(by_start)
    starts = sorted({*by_start, *(s for s in stored if s >= first)})
    head = stored.get(first) or next((stored[s] for s in starts if s in stored), None)
    base = _base(head, prior) if head is not None else prior
    out: list[Candle] = []
    for start in starts:
        old, delta = stored.get(start), by_start.get(start)
        was = _cum(old, base) if old is not None else 0
        cum = max(base, was, delta.cum_volume if delta is not None else 0)
        if delta is not None:
            out.append(_merge(old, delta, cum - base, cum, demo))
        elif old is not None:
            if (cum - base, cum) != (old.volume, old.cum_volume):
                out.append(old.model_copy(update={"volume": cum - base, "cum_volume": cum}))
            elif start > last:
                break  # its base did not move: nor does any later bar's
        base = cum
    return out


_FIELDS = frozenset(Candle.model_fields)


def _built(**values: object) -> Candle:
    """A Candle from values that are already valid (ints from the kernel, a stored bar's own): pydantic's
    ``model_construct`` costs several microseconds a bar, and a batch writes thousands of bars."""
    assert values.keys() == _FIELDS
    candle = Candle.__new__(Candle)
    object.__setattr__(candle, "__dict__", values)
    object.__setattr__(candle, "__pydantic_fields_set__", set(_FIELDS))
    object.__setattr__(candle, "__pydantic_extra__", None)
    object.__setattr__(candle, "__pydantic_private__", None)
    return candle


def _merge(stored: Candle | None, delta: CandleDelta, volume: int, cum: int, demo: bool) -> Candle:
    if stored is None:
        return _built(
            symbol=delta.symbol,
            timeframe=delta.timeframe,
            start_ms=delta.start_ms,
            open_paise=delta.open_paise,
            high_paise=delta.high_paise,
            low_paise=delta.low_paise,
            close_paise=delta.close_paise,
            volume=volume,
            ticks=delta.ticks,
            first_tick_ms=delta.open_ts,
            last_tick_ms=delta.close_ts,
            first_seq=delta.open_seq,
            last_seq=delta.close_seq,
            late_ticks=delta.late,
            cum_volume=cum,
            source=DEMO_SOURCE if demo else "live",
        )
    earlier = (delta.open_ts, delta.open_seq) < (stored.first_tick_ms, stored.first_seq)
    later = (delta.close_ts, delta.close_seq) >= (stored.last_tick_ms, stored.last_seq)
    return _built(
        symbol=stored.symbol,
        timeframe=stored.timeframe,
        start_ms=stored.start_ms,
        open_paise=delta.open_paise if earlier else stored.open_paise,
        high_paise=max(stored.high_paise, delta.high_paise),
        low_paise=min(stored.low_paise, delta.low_paise),
        close_paise=delta.close_paise if later else stored.close_paise,
        volume=volume,
        ticks=stored.ticks + delta.ticks,
        first_tick_ms=delta.open_ts if earlier else stored.first_tick_ms,
        last_tick_ms=delta.close_ts if later else stored.last_tick_ms,
        first_seq=delta.open_seq if earlier else stored.first_seq,
        last_seq=delta.close_seq if later else stored.last_seq,
        late_ticks=stored.late_ticks + delta.late,
        cum_volume=cum,
        source=stored.source,
    )
