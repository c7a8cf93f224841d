"""Fakes with the DynamoDB contract of the market repositories: the quote write is conditional on the version
(or, for a quote without one, the sequence), and carries the candles in the same step."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import timebase
from mantra.clock import IST
from mantra.domain import Alert, Candle, Instrument, Quote, Tick
from mantra.market.adjustments import Factor
from mantra.market.instruments import storage_key


def ist_ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ms: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, s, tzinfo=IST).timestamp() * 1000) + ms


T0 = timebase.SESSION_10AM  # a Monday in a full trading week, in the session


def tick(symbol: str, seq: int, ts_ms: int, ltp: int, qty: int = 1, **extra: Any) -> Tick:
    return Tick(
        tick_id=f"{symbol}-{seq}",
        seq=seq,
        symbol=symbol,
        token=f"tok-{symbol}",
        ts_ms=ts_ms,
        ltp_paise=ltp,
        last_qty=qty,
        volume=extra.pop("volume", seq * qty),
        **extra,
    )


class Quotes:
    def __init__(self) -> None:
        self.items: dict[str, Quote] = {}
        self.candles: dict[tuple[str, str, int], Candle] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def get(self, symbol: str) -> Quote | None:
        return self.items.get(symbol)

    def get_many(self, symbols: Iterable[str]) -> dict[str, Quote]:
        return {s: self.items[s] for s in set(symbols) if s in self.items}

    def put_many(self, quotes: Iterable[Quote]) -> None:
        for q in quotes:
            self.items[q.symbol] = q

    def all(self) -> list[Quote]:
        return list(self.items.values())

    def apply_group(self, writes) -> bool:  # type: ignore[no-untyped-def]
        """Like one DynamoDB transaction, through ``apply``; a conflict stops the group."""
        return all(self.apply(quote, prev_seq, candles) for quote, prev_seq, candles in writes)

    def apply(self, quote: Quote, prev_seq: int | None, candles: Iterable[Candle]) -> bool:
        with self._lock:
            cur = self.items.get(quote.symbol)
            if prev_seq is None:
                ok = cur is None
            elif quote.version > 1:
                ok = cur is not None and cur.version == quote.version - 1
            else:
                ok = cur is not None and cur.seq == prev_seq and cur.version == 0
            if not ok:
                return False
            self.items[quote.symbol] = quote
            for c in candles:
                self.candles[(c.symbol, c.timeframe, c.start_ms)] = c
                self.writes += 1
            return True


class Candles:
    def __init__(self, store: dict[tuple[str, str, int], Candle]) -> None:
        self.items = store

    def get_many(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Candle]:
        return {k: self.items[k] for k in keys if k in self.items}

    def put_many(self, candles: Iterable[Candle]) -> None:
        for c in candles:
            self.items[(c.symbol, c.timeframe, c.start_ms)] = c

    def range(self, symbol: str, timeframe: str, start_ms: int, end_ms: int, limit: int) -> list[Candle]:
        rows = [
            c
            for (s, tf, st), c in sorted(self.items.items())
            if s == symbol and tf == timeframe and start_ms <= st <= end_ms
        ]
        return rows[:limit]

    def latest(self, symbol: str, timeframe: str, end_ms: int, limit: int) -> list[Candle]:
        rows = [
            c
            for (s, tf, st), c in sorted(self.items.items())
            if s == symbol and tf == timeframe and st <= end_ms
        ]
        return rows[-limit:]


class NoAlerts:
    def active_for_symbols(self, symbols: Iterable[str]) -> dict[str, list[Alert]]:
        return {}

    def trigger(self, *args: Any) -> bool:
        return False


class Master:
    """An instrument store with the full read and the by-underlying index read; counts its reads."""

    def __init__(self, instruments: Iterable[Instrument] = (), index: bool = True) -> None:
        # keyed as the table is (market.instruments.storage_key): NSE bare, BSE:RELIANCE beside it
        self.items = {storage_key(i): i for i in instruments}
        self.index = index
        self.scans = self.index_reads = 0

    def all(self) -> list[Instrument]:
        self.scans += 1
        return list(self.items.values())

    def by_underlying(self, underlying: str, expiry: str | None = None) -> list[Instrument]:
        if not self.index:
            raise RuntimeError("ValidationException: The table does not have the specified index")
        self.index_reads += 1
        return [
            i
            for i in self.items.values()
            if i.underlying == underlying and (expiry is None or i.expiry == expiry)
        ]

    def put_many(self, instruments: Iterable[Instrument]) -> int:
        n = 0
        for i in instruments:
            self.items[storage_key(i)] = i
            n += 1
        return n


class MemoryFactors:
    def __init__(self) -> None:
        self.items: dict[tuple[str, date, str], Factor] = {}
        self.reads = 0

    def put_many(self, factors: Sequence[Factor], now_ms: int) -> int:
        for f in factors:
            self.items[f.symbol, f.ex_date, f.purpose] = f
        return len(factors)

    def all(self) -> list[Factor]:
        self.reads += 1
        return list(self.items.values())
