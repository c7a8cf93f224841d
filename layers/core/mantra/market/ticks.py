"""tick_processor's service: a batch of ticks -> latest quotes, candles and alert triggers."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pydantic import BaseModel

from mantra.alerts.events import ALERT_TRIGGERED, triggered_detail
from mantra.alerts.rules import Trigger, evaluate_batch
from mantra.clock import Clock
from mantra.domain import AlertCondition, Candle, Quote, Tick
from mantra.market.candles import LATE_GRACE_MS, aggregate_fast, merge
from mantra.market.timeframes import TIMEFRAMES_MS, session_date
from mantra.ports import AlertRepository, CandleRepository, QuoteRepository

MINUTE_MS = 60_000


class BatchSummary(BaseModel):
    ticks: int
    applied: int
    duplicates: int
    symbols: int
    candles_written: int
    triggers: int
    conflicts: int
    reordered: int = 0  # applied although older than the stored quote (arrived out of order across batches)
    late_ticks: int = 0  # arrived after their (finest) candle had closed: merged, counted on the candle
    too_old: int = 0  # older than the dedupe window: cannot be told from a duplicate, so not applied
    retries: int = 0  # per-symbol transactions redone after a concurrent writer moved the quote


SEEN_WINDOW = 1024  # sequences below the newest applied that each quote remembers (128 bytes)


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
    bits = bits << (new_top - top) if top >= 0 else 0
    for s in chosen:
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
    ) -> None:
        self._quotes, self._candles, self._alerts = quotes, candles, alerts
        self._clock = clock
        self._timeframes = tuple(timeframes)
        self._finest = min(self._timeframes, key=lambda tf: TIMEFRAMES_MS[tf])
        self._grace_ms, self._attempts = grace_ms, max_attempts
        # one transaction per instrument; they are independent, so they go out concurrently
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="apply")

    def process(self, ticks: Sequence[Tick]) -> BatchSummary:
        by_symbol: dict[str, list[Tick]] = defaultdict(list)
        for t in ticks:
            by_symbol[t.symbol].append(t)
        prev = self._quotes.get_many(by_symbol)

        # Drop what was already applied (a retried batch, a duplicate from the feed) and order by sequence.
        plans = {s: plan_ticks(prev.get(s), items) for s, items in by_symbol.items()}
        fresh = {s: p.ticks for s, p in plans.items() if p.ticks}
        candles_by_symbol, late = self._candles_for(fresh, prev)

        advancing = {s: [t for t in ts if s not in prev or t.seq > prev[s].seq] for s, ts in fresh.items()}
        triggers = self._fire_alerts({s: ts for s, ts in advancing.items() if ts}, prev, candles_by_symbol)

        def apply(symbol: str) -> tuple[bool, int, int]:
            old, plan, candles = prev.get(symbol), plans[symbol], candles_by_symbol[symbol]
            for attempt in range(self._attempts):
                quote = _next_quote(old, plan)
                if self._quotes.apply(quote, old.seq if old else None, candles):
                    return True, len(candles), attempt
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

        results = dict(zip(fresh, self._pool.map(apply, fresh), strict=True))
        return BatchSummary(
            ticks=len(ticks),
            applied=sum(len(v) for v in fresh.values()),
            duplicates=sum(p.duplicates for p in plans.values()),
            symbols=len(fresh),
            candles_written=sum(n for ok, n, _ in results.values() if ok),
            triggers=len(triggers),
            # a conflict means someone else kept moving the quote; nothing is counted twice
            conflicts=sum(1 for ok, _, _ in results.values() if not ok),
            reordered=sum(p.reordered for p in plans.values()),
            late_ticks=late,
            too_old=sum(p.too_old for p in plans.values()),
            retries=sum(r for _, _, r in results.values()),
        )

    def _candles_for(
        self, fresh: dict[str, list[Tick]], prev: dict[str, Quote]
    ) -> tuple[dict[str, list[Candle]], int]:
        """Merge the batch's deltas into the stored candles: one write per changed candle."""
        watermarks = {s: prev[s].tick_ts_ms for s in fresh if s in prev}
        deltas = aggregate_fast(
            [t for ts in fresh.values() for t in ts], self._timeframes, watermarks, self._grace_ms
        )
        stored = self._candles.get_many(deltas.keys()) if deltas else {}
        out: dict[str, list[Candle]] = defaultdict(list)
        for key, delta in deltas.items():
            out[key[0]].append(merge(stored.get(key), delta))
        late = sum(d.late for k, d in deltas.items() if k[1] == self._finest)
        return out, late

    def _fire_alerts(
        self, fresh: dict[str, list[Tick]], prev: dict[str, Quote], candles: dict[str, list[Candle]]
    ) -> list[Trigger]:
        alerts = self._alerts.active_for_symbols(fresh)
        if not alerts:
            return []

        def volume_ratio(symbol: str, lookback: int) -> tuple[int, float] | None:
            current = next((c for c in candles.get(symbol, []) if c.timeframe == "1m"), None)
            if current is None:
                return None
            history = self._candles.range(
                symbol, "1m", current.start_ms - lookback * MINUTE_MS, current.start_ms - 1, lookback
            )
            if len(history) < max(3, lookback // 2):
                return None  # not enough history to call anything a spike
            return current.volume, sum(c.volume for c in history) / len(history)

        has_volume_rules = any(a.condition is AlertCondition.VOLUME_SPIKE for v in alerts.values() for a in v)
        fired = []
        now = self._clock.now_ms()
        for trig in evaluate_batch(fresh, alerts, prev, volume_ratio if has_volume_rules else None):
            if self._alerts.trigger(trig.alert, trig.trigger_id, now, ALERT_TRIGGERED, _detail(trig)):
                fired.append(trig)
        return fired


def _detail(trig: Trigger) -> dict[str, object]:
    t = trig.tick
    return triggered_detail(
        trig.alert, trig.trigger_id, t.symbol, t.ltp_paise, t.ts_ms, t.tick_id, trig.prev_paise, trig.facts
    )


def _next_quote(prev: Quote | None, plan: _Plan) -> Quote:
    ticks = plan.ticks
    version = (prev.version if prev else 0) + 1
    advancing = [t for t in ticks if prev is None or t.seq > prev.seq]
    if not advancing and prev is not None:
        # only reordered ticks: the last price stays; the session's range and volume may still widen
        same = [t for t in ticks if session_date(t.ts_ms) == prev.session_date]
        return prev.model_copy(
            update={
                "high_paise": max([prev.high_paise, *(t.ltp_paise for t in same)]),
                "low_paise": min([prev.low_paise, *(t.ltp_paise for t in same)]),
                "volume": max([prev.volume, *(t.volume for t in same)]),
                "seen": plan.seen,
                "version": version,
            }
        )
    last = advancing[-1]
    day = session_date(last.ts_ms)
    same_session = prev is not None and prev.session_date == day
    today = [t for t in ticks if session_date(t.ts_ms) == day]
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
    )
