"""Candle buckets aligned to the NSE session in IST.

Intraday buckets are anchored at the 09:15 IST open (so 1h candles are 09:15-10:15, ...); daily buckets are
the IST calendar date. All inputs and outputs are epoch milliseconds UTC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from mantra.clock import IST, ist_from_ms

SESSION_OPEN = time(9, 15)
TIMEFRAMES_MS: dict[str, int] = {
    "1m": 60_000,
    "5m": 5 * 60_000,
    "15m": 15 * 60_000,
    "1h": 60 * 60_000,
    "1d": 24 * 60 * 60_000,
}


def validate_timeframe(tf: str) -> str:
    if tf not in TIMEFRAMES_MS:
        raise ValueError(f"unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES_MS)}")
    return tf


def session_date(ts_ms: int) -> str:
    return ist_from_ms(ts_ms).date().isoformat()


def bucket_start_ms(ts_ms: int, tf: str) -> int:
    local = ist_from_ms(ts_ms)
    day_start = datetime.combine(local.date(), time(0, 0), tzinfo=IST)
    if tf == "1d":
        return int(day_start.timestamp() * 1000)
    width = TIMEFRAMES_MS[tf]
    anchor_ms = int(
        (day_start + timedelta(hours=SESSION_OPEN.hour, minutes=SESSION_OPEN.minute)).timestamp() * 1000
    )
    # floor division keeps pre-open ticks in buckets counted back from the anchor
    return anchor_ms + ((ts_ms - anchor_ms) // width) * width
