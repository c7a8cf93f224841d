"""Incremental candle aggregation: a batch of ticks becomes one delta per touched candle.

A delta merges into the stored candle by timestamps, not arrival order, so reordered ticks inside or across
batches give the same open/close; ticks repeated inside a batch (same ``tick_id``) count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mantra.domain import Candle, Tick
from mantra.market.timeframes import bucket_start_ms


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

    def add(self, tick: Tick) -> None:
        if tick.ts_ms < self.open_ts:
            self.open_paise, self.open_ts = tick.ltp_paise, tick.ts_ms
        if tick.ts_ms >= self.close_ts:
            self.close_paise, self.close_ts = tick.ltp_paise, tick.ts_ms
        self.high_paise = max(self.high_paise, tick.ltp_paise)
        self.low_paise = min(self.low_paise, tick.ltp_paise)
        self.volume += tick.last_qty
        self.ticks += 1


def dedupe(ticks: Iterable[Tick]) -> list[Tick]:
    seen: set[str] = set()
    out = []
    for t in ticks:
        if t.tick_id not in seen:
            seen.add(t.tick_id)
            out.append(t)
    return out


def aggregate(ticks: Sequence[Tick], timeframes: Sequence[str]) -> dict[tuple[str, str, int], CandleDelta]:
    deltas: dict[tuple[str, str, int], CandleDelta] = {}
    for tick in dedupe(ticks):
        for tf in timeframes:
            start = bucket_start_ms(tick.ts_ms, tf)
            key = (tick.symbol, tf, start)
            delta = deltas.get(key)
            if delta is None:
                deltas[key] = CandleDelta(
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
                )
            else:
                delta.add(tick)
    return deltas


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
        )
    earlier = delta.open_ts < stored.first_tick_ms
    later = delta.close_ts >= stored.last_tick_ms
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
        first_tick_ms=min(stored.first_tick_ms, delta.open_ts),
        last_tick_ms=max(stored.last_tick_ms, delta.close_ts),
    )
