"""tick_processor's service: a batch of ticks -> latest quotes, candles and alert triggers."""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pydantic import BaseModel

from mantra.alerts.events import ALERT_TRIGGERED, triggered_detail
from mantra.alerts.rules import Trigger, evaluate_batch
from mantra.clock import Clock
from mantra.domain import Alert, AlertCondition, Candle, Quote, Tick
from mantra.eventbus import OutboxEvent, OutboxFastPath
from mantra.market.activity import MinuteBaseline
from mantra.market.candle_kernel import IST_OFFSET_MS
from mantra.market.candles import LATE_GRACE_MS, CandleDelta, aggregate_fast, settle
from mantra.market.timeframes import TIMEFRAMES_MS, bucket_start_ms, session_date
from mantra.ports import AlertRepository, CandleRepository, QuoteRepository

DAY_MS = 86_400_000
RANGE_LIMIT = 2_000  # bars of one series read back for a late tick: more than a session's 1m bars


def _day(ts_ms: int) -> int:
    """The IST calendar day of an instant, as days since 1970-01-01: the session a bar belongs to."""
    return (ts_ms + IST_OFFSET_MS) // DAY_MS


class BatchSummary(BaseModel):
    ticks: int
    applied: int
    duplicates: int
    symbols: int
    candles_written: int
    triggers: int
    conflicts: int
    published_at_once: int = 0  # triggers put on the bus by this batch itself (the relay skips them)
    phase_ms: dict[str, int] = {}
    reordered: int = 0  # applied although older than the stored quote (arrived out of order across batches)
    late_ticks: int = 0  # arrived after their (finest) candle had closed: merged, counted on the candle
    too_old: int = 0  # older than the dedupe window: cannot be told from a duplicate, so not applied
    retries: int = 0  # per-symbol transactions redone after a concurrent writer moved the quote


# sequences below the newest applied that each quote remembers (128 bytes). The feed's sequences are dense per
# instrument (mantra.feed.base.Stamper), so this is 1,024 ticks of the instrument: a tick held back by 2 s or 100
# ticks is merged exactly; one further back than the window is counted too_old (and flagged), never applied twice
SEEN_WINDOW = 1024


@dataclass
class _Plan:
    """What one instrument's ticks do to its stored state."""

    ticks: list[Tick]  # to apply, by sequence
    duplicates: int
    too_old: int
    reordered: int
    seq: int
    seen: str


def _decode(seen: str) -> int:
    return int.from_bytes(base64.b64decode(seen), "little") if seen else 0


def _encode(bits: int) -> str:
    return base64.b64encode(bits.to_bytes((bits.bit_length() + 7) // 8, "little")).decode()


def plan_ticks(prev: Quote | None, items: Sequence[Tick], window: int = SEEN_WINDOW) -> _Plan:
    """Which ticks are new. The quote remembers the sequences applied in (seq - window, seq]; a tick inside that
    window that is not marked is a reordered one and applies; one outside it is counted as too old."""
    top = prev.seq if prev else -1
    legacy = prev is not None and prev.version == 0 and not prev.seen  # written before the window existed
    bits = (1 << window) - 1 if legacy else _decode(prev.seen) if prev else 0
    chosen: dict[int, Tick] = {}
    dup = old = 0
    for t in items:
        if t.seq in chosen:
            dup += 1
        elif t.seq > top:
            chosen[t.seq] = t
        elif top - t.seq >= window:
            old += 1
        elif (bits >> (top - t.seq)) & 1:
            dup += 1
        else:
            chosen[t.seq] = t
    new_top = max(top, max(chosen, default=top))
    # a jump in sequence numbers (a feed restarted with time-based ones) may move the window past all it held:
    # shift only within the window, or the shift itself would allocate a number the size of the jump
    bits = bits << (new_top - top) if top >= 0 and new_top - top < window else 0
    for s in chosen:
        if new_top - s < window:
            bits |= 1 << (new_top - s)
    bits &= (1 << window) - 1
    reordered = sum(1 for s in chosen if s < top)
    return _Plan([chosen[s] for s in sorted(chosen)], dup, old, reordered, new_top, _encode(bits))


class TickProcessor:
    def __init__(
        self,
        quotes: QuoteRepository,
        candles: CandleRepository,
        alerts: AlertRepository,
        clock: Clock,
        timeframes: Sequence[str] = ("1m", "5m", "15m", "1h", "1d"),
        max_workers: int = 8,
        grace_ms: int = LATE_GRACE_MS,
        max_attempts: int = 3,
        alert_cache_s: float = 0.0,
        fast_path: OutboxFastPath | None = None,
    ) -> None:
        self._quotes, self._candles, self._alerts = quotes, candles, alerts
        self._active = ActiveAlerts(alerts, alert_cache_s)
        self._baseline = MinuteBaseline(candles)  # volume spikes: the same minute of earlier sessions
        self._fast_path = fast_path
        self._clock = clock
        self._timeframes = tuple(timeframes)
        self._finest = min(self._timeframes, key=lambda tf: TIMEFRAMES_MS[tf])
        self._grace_ms, self._attempts = grace_ms, max_attempts
        # what this consumer last wrote (a warm Lambda keeps it): read back only what it does not know
        self._written = WrittenState()
        # one transaction per instrument; they are independent, so they go out concurrently
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="apply")

    def process(self, ticks: Sequence[Tick]) -> BatchSummary:
        t0 = time.perf_counter()
        by_symbol: dict[str, list[Tick]] = defaultdict(list)
        for t in ticks:
            by_symbol[t.symbol].append(t)
        # the active alerts do not depend on the quotes: fetch them while the quotes and candles are read
        watched = self._pool.submit(self._active.for_symbols, list(by_symbol))
        known, missing = self._written.quotes(by_symbol)
        prev = {**known, **self._quotes.get_many(missing)} if missing else known

        # Drop what was already applied (a retried batch, a duplicate from the feed) and order by sequence.
        plans = {s: plan_ticks(prev.get(s), items) for s, items in by_symbol.items()}
        fresh = {s: p.ticks for s, p in plans.items() if p.ticks}
        candles_by_symbol, late = self._candles_for(fresh, prev)

        advancing = {s: [t for t in ts if s not in prev or t.seq > prev[s].seq] for s, ts in fresh.items()}
        t1 = time.perf_counter()
        moving = {s: ts for s, ts in advancing.items() if ts}
        triggers = self._fire_alerts(moving, prev, candles_by_symbol, watched.result())
        # the triggers are committed (with their outbox rows): put them on the bus now, beside the writes below
        announced = (
            self._pool.submit(self._fast_path.publish, [_event(t) for t in triggers], self._clock.now_ms())
            if triggers and self._fast_path
            else None
        )
        t2 = time.perf_counter()

        def apply(symbol: str, first_attempt: int = 0) -> tuple[bool, int, int]:
            old, plan, candles = prev.get(symbol), plans[symbol], candles_by_symbol[symbol]
            if first_attempt:  # the grouped write conflicted: start from a fresh read
                self._written.forget(symbol)
                old = self._quotes.get(symbol)
                plan = plan_ticks(old, by_symbol[symbol])
                if not plan.ticks:
                    return True, 0, first_attempt
                redo, _ = self._candles_for({symbol: plan.ticks}, {symbol: old} if old else {})
                candles = redo[symbol]
            for attempt in range(first_attempt, self._attempts):
                quote = _next_quote(old, plan)
                if self._quotes.apply(quote, old.seq if old else None, candles):
                    self._written.remember(quote, candles)
                    return True, len(candles), attempt
                self._written.forget(symbol)
                if attempt + 1 == self._attempts:
                    break
                # someone moved the quote since we read it: re-read and redo this instrument only
                old = self._quotes.get(symbol)
                plan = plan_ticks(old, by_symbol[symbol])
                if not plan.ticks:
                    return True, 0, attempt + 1  # they applied our ticks: nothing left to do
                redo, _ = self._candles_for({symbol: plan.ticks}, {symbol: old} if old else {})
                candles = redo[symbol]
            return False, 0, self._attempts - 1

        # Many instruments per transaction (one round-trip each, up to 100 items); a group that conflicts is
        # redone one instrument at a time from a fresh read.
        groups = _groups(list(fresh), lambda s: 1 + len(candles_by_symbol[s]), GROUP_ITEMS)

        def apply_group(group: list[str]) -> list[str]:
            writes = [
                (_next_quote(prev.get(s), plans[s]), prev[s].seq if s in prev else None, candles_by_symbol[s])
                for s in group
            ]
            if self._quotes.apply_group(writes):
                for quote, _, candles in writes:
                    self._written.remember(quote, candles)
                return []
            return group

        results: dict[str, tuple[bool, int, int]] = {}
        conflicted = [s for g in self._pool.map(apply_group, groups) for s in g]
        for s in fresh:
            if s not in conflicted:
                results[s] = (True, len(candles_by_symbol[s]), 0)
        results.update(zip(conflicted, self._pool.map(lambda s: apply(s, 1), conflicted), strict=True))
        published = announced.result() if announced else 0
        return BatchSummary(
            ticks=len(ticks),
            applied=sum(len(v) for v in fresh.values()),
            duplicates=sum(p.duplicates for p in plans.values()),
            symbols=len(fresh),
            candles_written=sum(n for ok, n, _ in results.values() if ok),
            triggers=len(triggers),
            published_at_once=published,
            # a conflict means someone else kept moving the quote; nothing is counted twice
            conflicts=sum(1 for ok, _, _ in results.values() if not ok),
            reordered=sum(p.reordered for p in plans.values()),
            late_ticks=late,
            too_old=sum(p.too_old for p in plans.values()),
            retries=sum(r for _, _, r in results.values()),
            phase_ms={
                "read": round((t1 - t0) * 1000),
                "alerts": round((t2 - t1) * 1000),
                "write": round((time.perf_counter() - t2) * 1000),
            },
        )

    def _candles_for(
        self, fresh: dict[str, list[Tick]], prev: dict[str, Quote]
    ) -> tuple[dict[str, list[Candle]], int]:
        """Merge the batch's deltas into the stored candles: one write per changed candle.

        In order (the common case) only the bars the batch touches are read, and most of those this consumer
        wrote itself; a tick that lands before the latest bar of its series also reads the bars from its own
        to that latest one, whose volumes it may shift (see ``mantra.market.candles``).
        """
        watermarks = {s: max(prev[s].tick_ts_ms, prev[s].high_ts_ms) for s in fresh if s in prev}
        deltas = aggregate_fast(
            [t for ts in fresh.values() for t in ts], self._timeframes, watermarks, self._grace_ms
        )
        series: dict[tuple[str, str, int], list[CandleDelta]] = defaultdict(list)
        for (symbol, tf, start), delta in deltas.items():
            series[(symbol, tf, _day(start))].append(delta)
        ranges: dict[tuple[str, str, int], tuple[int, int]] = {}
        priors: dict[tuple[str, str, int], int] = {}
        for key, items in series.items():
            symbol, tf, day = key
            q = prev.get(symbol)
            qday = _day(q.tick_ts_ms) if q is not None else None
            if q is not None and qday == day:
                priors[key] = q.volume
                latest = bucket_start_ms(max(q.tick_ts_ms, q.high_ts_ms), tf)
                first = min(d.start_ms for d in items)
                if first < latest:
                    ranges[key] = (first, latest)
            elif qday is not None and day < qday:  # a straggler from an earlier session: read that session
                lo = day * DAY_MS - IST_OFFSET_MS
                ranges[key] = (lo, lo + DAY_MS - 1)
        stored, missing = self._written.candles(deltas.keys())
        if missing:
            stored.update(self._candles.get_many(missing))
        for (symbol, tf, _), (lo, hi) in ranges.items():
            # what this consumer wrote itself wins over a read that may not show it yet
            for c in self._written.recent(symbol, tf, lo, hi):
                stored[(symbol, tf, c.start_ms)] = c
            for c in self._candles.range(symbol, tf, lo, hi, RANGE_LIMIT):
                stored.setdefault((symbol, tf, c.start_ms), c)
        by_series: dict[tuple[str, str, int], dict[int, Candle]] = defaultdict(dict)
        for (symbol, tf, start), c in stored.items():
            by_series[(symbol, tf, _day(start))][start] = c
        demo = {s for s, ts in fresh.items() if ts and ts[0].source == "demo"}
        out: dict[str, list[Candle]] = defaultdict(list)
        for key, items in series.items():
            out[key[0]].extend(settle(items, by_series.get(key, {}), priors.get(key, 0), key[0] in demo))
        late = sum(d.late for k, d in deltas.items() if k[1] == self._finest)
        return out, late

    def _fire_alerts(
        self,
        fresh: dict[str, list[Tick]],
        prev: dict[str, Quote],
        candles: dict[str, list[Candle]],
        watched: dict[str, list[Alert]],
    ) -> list[Trigger]:
        alerts = {s: a for s, a in watched.items() if s in fresh}
        if not alerts:
            return []

        def volume_ratio(symbol: str, sessions: int) -> tuple[int, float] | None:
            current = next((c for c in candles.get(symbol, []) if c.timeframe == "1m"), None)
            return None if current is None else self._baseline.ratio(current, sessions)

        has_volume_rules = any(a.condition is AlertCondition.VOLUME_SPIKE for v in alerts.values() for a in v)
        now = self._clock.now_ms()
        found = list(evaluate_batch(fresh, alerts, prev, volume_ratio if has_volume_rules else None))

        def fire(trig: Trigger) -> bool:
            return self._alerts.trigger(trig.alert, trig.trigger_id, now, ALERT_TRIGGERED, _detail(trig))

        # one transaction per trigger, independent of each other: side by side, so a burst is not a queue
        written = list(self._pool.map(fire, found)) if len(found) > 1 else [fire(t) for t in found]
        fired = [t for t, ok in zip(found, written, strict=True) if ok]
        self._active.fired([t.alert for t in fired], now)
        return fired


def _event(trig: Trigger) -> OutboxEvent:
    return OutboxEvent(event_id=trig.trigger_id, detail_type=ALERT_TRIGGERED, detail=_detail(trig))


def _detail(trig: Trigger) -> dict[str, object]:
    t = trig.tick
    return triggered_detail(
        trig.alert, trig.trigger_id, t.symbol, t.ltp_paise, t.ts_ms, t.tick_id, trig.prev_paise, trig.facts
    )


class ActiveAlerts:
    """The active alerts per instrument, kept ``ttl_s`` seconds (0: read every batch).

    Ticks arrive many times a second; re-reading every instrument's alerts for each batch was most of the
    database work of the tick path. A new or changed alert is seen within ``ttl_s``. A stale entry can never
    fire twice: the trigger is a conditional write (one-shot: still active; recurring: out of its cooldown),
    and what this consumer fires it updates in place at once.
    """

    def __init__(self, alerts: AlertRepository, ttl_s: float) -> None:
        self._alerts, self._ttl = alerts, ttl_s
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, list[Alert]]] = {}

    def for_symbols(self, symbols: list[str]) -> dict[str, list[Alert]]:
        if self._ttl <= 0:
            return self._alerts.active_for_symbols(symbols)
        now = time.monotonic()
        with self._lock:
            fresh = {
                s: self._cache[s] for s in symbols if s in self._cache and now - self._cache[s][0] < self._ttl
            }
        stale = [s for s in symbols if s not in fresh]
        read = self._alerts.active_for_symbols(stale) if stale else {}
        with self._lock:
            for s in stale:
                self._cache[s] = (now, read.get(s, []))
        out = {s: alerts for s, (_, alerts) in fresh.items() if alerts}
        out.update({s: a for s, a in read.items() if a})
        return out

    def fired(self, alerts: list[Alert], at_ms: int) -> None:
        if self._ttl <= 0 or not alerts:
            return
        with self._lock:
            for alert in alerts:
                entry = self._cache.get(alert.watch_key)
                if entry is None:
                    continue
                kept = [a for a in entry[1] if a.alert_id != alert.alert_id]
                if alert.recurring:
                    kept.append(
                        alert.model_copy(
                            update={"triggered_ms": at_ms, "trigger_count": alert.trigger_count + 1}
                        )
                    )
                self._cache[alert.watch_key] = (entry[0], kept)


GROUP_ITEMS = 100  # DynamoDB's limit of items in one transaction


RECENT_BARS = 4  # bars per series a consumer keeps of its own writes: a late tick's bar and the ones after it


class WrittenState:
    """The quote and newest candles this consumer wrote per instrument, so the next batch need not read them.

    Safe because every write is guarded by the quote's version: if anyone else moved an instrument, the write
    is cancelled, the entry is forgotten and the instrument is re-read. Instruments map to one shard, so one
    consumer owns them; a cold start simply reads everything once. A few bars per series are kept, not only the
    latest: a late tick rewrites its own bar and the next, which were written moments ago (a read might not see
    them yet: DynamoDB's reads are eventually consistent).
    """

    def __init__(self, max_symbols: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._quotes: OrderedDict[str, Quote] = OrderedDict()
        self._candles: dict[str, dict[str, dict[int, Candle]]] = {}
        self._max = max_symbols

    def quotes(self, symbols: Iterable[str]) -> tuple[dict[str, Quote], list[str]]:
        known: dict[str, Quote] = {}
        missing: list[str] = []
        with self._lock:
            for s in symbols:
                q = self._quotes.get(s)
                if q is None:
                    missing.append(s)
                else:
                    known[s] = q
        return known, missing

    def candles(
        self, keys: Iterable[tuple[str, str, int]]
    ) -> tuple[dict[tuple[str, str, int], Candle], list[tuple[str, str, int]]]:
        known: dict[tuple[str, str, int], Candle] = {}
        missing: list[tuple[str, str, int]] = []
        with self._lock:
            for key in keys:
                c = self._candles.get(key[0], {}).get(key[1], {}).get(key[2])
                if c is not None:
                    known[key] = c
                else:
                    missing.append(key)  # an older bucket or never seen: read it
        return known, missing

    def recent(self, symbol: str, timeframe: str, lo: int, hi: int) -> list[Candle]:
        """The kept bars of a series starting in [lo, hi]."""
        with self._lock:
            bars = self._candles.get(symbol, {}).get(timeframe, {})
            return [c for start, c in bars.items() if lo <= start <= hi]

    def remember(self, quote: Quote, candles: Iterable[Candle]) -> None:
        with self._lock:
            self._quotes[quote.symbol] = quote
            self._quotes.move_to_end(quote.symbol)
            series = self._candles.setdefault(quote.symbol, {})
            for c in candles:
                bars = series.setdefault(c.timeframe, {})
                bars[c.start_ms] = c
                if len(bars) > RECENT_BARS:
                    del bars[min(bars)]
            while len(self._quotes) > self._max:
                old, _ = self._quotes.popitem(last=False)
                self._candles.pop(old, None)

    def forget(self, symbol: str) -> None:
        with self._lock:
            self._quotes.pop(symbol, None)
            self._candles.pop(symbol, None)


def _groups(symbols: list[str], size: Callable[[str], int], limit: int) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    used = 0
    for s in symbols:
        n = size(s)
        if current and used + n > limit:
            out.append(current)
            current, used = [], 0
        current.append(s)
        used += n
    if current:
        out.append(current)
    return out


def _next_quote(prev: Quote | None, plan: _Plan) -> Quote:
    ticks = plan.ticks
    version = (prev.version if prev else 0) + 1
    advancing = [t for t in ticks if prev is None or t.seq > prev.seq]
    if not advancing and prev is not None:
        # only reordered ticks: the last price stays; the session's range and volume may still widen
        pday = _day(prev.tick_ts_ms)
        same = [t for t in ticks if _day(t.ts_ms) == pday]
        return prev.model_copy(
            update={
                "high_paise": max([prev.high_paise, *(t.ltp_paise for t in same)]),
                "low_paise": min([prev.low_paise, *(t.ltp_paise for t in same)]),
                "volume": max([prev.volume, *(t.volume for t in same)]),
                "high_ts_ms": max([prev.high_ts_ms, prev.tick_ts_ms, *(t.ts_ms for t in same)]),
                "seen": plan.seen,
                "version": version,
            }
        )
    last = advancing[-1]
    day = session_date(last.ts_ms)
    same_session = prev is not None and prev.session_date == day
    lday = _day(last.ts_ms)  # the same day as ``day``, as an integer: compared once per tick
    today = [t for t in ticks if _day(t.ts_ms) == lday]
    high = max(t.ltp_paise for t in today)
    low = min(t.ltp_paise for t in today)
    if same_session and prev is not None:
        high, low = max(high, prev.high_paise), min(low, prev.low_paise)
        open_paise, prev_close = prev.open_paise, prev.prev_close_paise
    else:
        open_paise = last.open_paise or today[0].ltp_paise
        prev_close = last.prev_close_paise or (prev.ltp_paise if prev else open_paise)
    oi = next((t.oi for t in reversed(advancing) if t.oi is not None), prev.oi if prev else None)
    if same_session and prev is not None and prev.oi_open is not None:
        oi_open: int | None = prev.oi_open
    else:
        oi_open = next((t.oi for t in today if t.oi is not None), None)
    return Quote(
        oi=oi,
        oi_open=oi_open,
        symbol=last.symbol,
        ltp_paise=last.ltp_paise,
        open_paise=open_paise,
        high_paise=high,
        low_paise=low,
        prev_close_paise=prev_close,
        bid_paise=last.bid_paise,
        ask_paise=last.ask_paise,
        volume=max([t.volume for t in today] + [prev.volume if same_session and prev else 0]),
        tick_ts_ms=last.ts_ms,
        tick_id=last.tick_id,
        seq=last.seq,
        session_date=day,
        version=version,
        seen=plan.seen,
        high_ts_ms=max(
            [t.ts_ms for t in today]
            + ([prev.high_ts_ms, prev.tick_ts_ms] if same_session and prev is not None else [])
        ),
    )
