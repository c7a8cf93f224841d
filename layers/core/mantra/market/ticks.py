"""tick_processor's service: a batch of ticks -> latest quotes, candles and alert triggers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from mantra.alerts.rules import Trigger, evaluate_batch
from mantra.clock import Clock
from mantra.domain import AlertCondition, Candle, Quote, Tick
from mantra.market.candles import aggregate, merge
from mantra.market.timeframes import session_date
from mantra.money import to_rupees
from mantra.ports import AlertRepository, CandleRepository, QuoteRepository

ALERT_TRIGGERED = "alert.triggered"
MINUTE_MS = 60_000


class BatchSummary(BaseModel):
    ticks: int
    applied: int
    duplicates: int
    symbols: int
    candles_written: int
    triggers: int
    conflicts: int


class TickProcessor:
    def __init__(
        self,
        quotes: QuoteRepository,
        candles: CandleRepository,
        alerts: AlertRepository,
        clock: Clock,
        timeframes: Sequence[str] = ("1m", "5m", "15m", "1h", "1d"),
        max_workers: int = 8,
    ) -> None:
        self._quotes, self._candles, self._alerts = quotes, candles, alerts
        self._clock = clock
        self._timeframes = tuple(timeframes)
        # one transaction per instrument; they are independent, so they go out concurrently
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="apply")

    def process(self, ticks: Sequence[Tick]) -> BatchSummary:
        by_symbol: dict[str, list[Tick]] = defaultdict(list)
        for t in ticks:
            by_symbol[t.symbol].append(t)
        prev = self._quotes.get_many(by_symbol)

        # Drop what was already applied (a retried batch, a duplicate from the feed) and order by sequence.
        fresh: dict[str, list[Tick]] = {}
        duplicates = 0
        for symbol, items in by_symbol.items():
            last_seq = prev[symbol].seq if symbol in prev else -1
            seen: dict[int, Tick] = {}
            for t in items:
                if t.seq <= last_seq or t.seq in seen:
                    duplicates += 1
                else:
                    seen[t.seq] = t
            if seen:
                fresh[symbol] = [seen[s] for s in sorted(seen)]

        deltas = aggregate([t for ts in fresh.values() for t in ts], self._timeframes)
        stored = self._candles.get_many(deltas.keys())
        candles_by_symbol: dict[str, list[Candle]] = defaultdict(list)
        for key, delta in deltas.items():
            candles_by_symbol[key[0]].append(merge(stored.get(key), delta))

        triggers = self._fire_alerts(fresh, prev, candles_by_symbol)

        def apply(symbol: str) -> bool:
            old = prev.get(symbol)
            quote = _next_quote(old, fresh[symbol])
            return self._quotes.apply(quote, old.seq if old else None, candles_by_symbol[symbol])

        results = dict(zip(fresh, self._pool.map(apply, fresh), strict=True))
        written = sum(len(candles_by_symbol[s]) for s, ok in results.items() if ok)
        # a conflict means someone else applied these ticks first; nothing is counted twice
        conflicts = sum(1 for ok in results.values() if not ok)
        return BatchSummary(
            ticks=len(ticks),
            applied=sum(len(v) for v in fresh.values()),
            duplicates=duplicates,
            symbols=len(fresh),
            candles_written=written,
            triggers=len(triggers),
            conflicts=conflicts,
        )

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
    a, t = trig.alert, trig.tick
    return {
        "trigger_id": trig.trigger_id,
        "tenant_id": a.tenant_id,
        "user_id": a.user_id,
        "alert_id": a.alert_id,
        "symbol": a.symbol,
        "condition": a.condition.value,
        "level": str(to_rupees(a.level_paise)),
        "price": str(to_rupees(t.ltp_paise)),
        "previous_price": None if trig.prev_paise is None else str(to_rupees(trig.prev_paise)),
        "tick_id": t.tick_id,
        "tick_ts_ms": t.ts_ms,
        "channels": [c.value for c in a.channels],
        "note": a.note,
        "recurring": a.recurring,
        "facts": trig.facts,
    }


def _next_quote(prev: Quote | None, ticks: Sequence[Tick]) -> Quote:
    last = ticks[-1]
    day = session_date(last.ts_ms)
    same_session = prev is not None and prev.session_date == day
    prices = [t.ltp_paise for t in ticks if session_date(t.ts_ms) == day]
    high = max(prices)
    low = min(prices)
    if same_session and prev is not None:
        high, low = max(high, prev.high_paise), min(low, prev.low_paise)
        open_paise, prev_close = prev.open_paise, prev.prev_close_paise
    else:
        open_paise = last.open_paise or next(t.ltp_paise for t in ticks if session_date(t.ts_ms) == day)
        prev_close = last.prev_close_paise or (prev.ltp_paise if prev else open_paise)
    oi = next((t.oi for t in reversed(ticks) if t.oi is not None), prev.oi if prev else None)
    if same_session and prev is not None and prev.oi_open is not None:
        oi_open: int | None = prev.oi_open
    else:
        oi_open = next((t.oi for t in ticks if t.oi is not None and session_date(t.ts_ms) == day), None)
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
        volume=max(last.volume, prev.volume if same_session and prev else 0),
        tick_ts_ms=last.ts_ms,
        tick_id=last.tick_id,
        seq=last.seq,
        session_date=day,
    )
