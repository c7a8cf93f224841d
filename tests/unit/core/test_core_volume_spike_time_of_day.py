"""The realtime volume-spike alert compares a minute with the same minute of earlier sessions (exchange
calendar, holidays skipped), not with the minutes just before it: the open always out-trades the bars before."""

from __future__ import annotations

from datetime import date, datetime, time

import timebase
from core_fakes import InMemoryAlerts, InMemoryCandles, InMemoryQuotes, ist_ms, make_alert, make_tick
from mantra.clock import IST, ManualClock
from mantra.domain import AlertCondition, Candle
from mantra.market.activity import MinuteBaseline, same_minute_starts
from mantra.market.calendar import default_calendar
from mantra.market.ticks import TickProcessor

DAY = timebase.SESSION_DAY


def _bar(symbol: str, start: int, volume: int, source: str = "live") -> Candle:
    return Candle(
        symbol=symbol,
        timeframe="1m",
        start_ms=start,
        open_paise=100_000,
        high_paise=100_500,
        low_paise=99_500,
        close_paise=100_200,
        volume=volume,
        ticks=10,
        first_tick_ms=start,
        last_tick_ms=start + 59_000,
        source=source,
    )


def test_earlier_sessions_follow_the_exchange_calendar() -> None:
    # Mahashivratri, Wed 26 Feb 2025, was a trading holiday: Thursday's earlier sessions skip it and the weekend
    start = ist_ms(2025, 2, 27, 9, 15)
    days = [datetime.fromtimestamp(s / 1000, IST) for s in same_minute_starts(start, 4, default_calendar())]
    assert [d.date() for d in days] == [
        date(2025, 2, 25),
        date(2025, 2, 24),
        date(2025, 2, 21),
        date(2025, 2, 20),
    ]
    assert {d.time() for d in days} == {time(9, 15)}


def test_baseline_is_read_once_per_minute_and_keeps_demo_bars_apart() -> None:
    cal = default_calendar()
    start = timebase.ist_ms(DAY, 9, 15)
    candles = InMemoryCandles()
    past = same_minute_starts(start, 10, cal)
    candles.put_many([_bar("SBIN", s, 40_000 + 1_000 * i) for i, s in enumerate(past)])
    candles.put_many([_bar("SBIN", s, 7, "demo") for s in past[:5]])  # five sessions hold demo-feed bars
    calls: list[int] = []
    real_get = candles.get_many

    def counting(keys):  # type: ignore[no-untyped-def]
        keys = list(keys)
        calls.append(len(keys))
        return real_get(keys)

    candles.get_many = counting  # type: ignore[method-assign]
    base = MinuteBaseline(candles, cal)
    got = base.average("SBIN", start, 10)
    assert got is not None
    n, mean = got
    # only the five sessions with market data are averaged; the demo feed's bars only against the demo feed
    assert n == 5 and mean == sum(40_000 + 1_000 * i for i in range(5, 10)) / 5
    assert base.average("SBIN", start, 10) == got and calls == [10]
    assert base.average("SBIN", start, 10, demo=True) == (5, 7.0)
    assert base.average("INFY", start, 10) is None  # no history: nothing is called a spike


def test_the_open_is_not_a_spike_but_a_quiet_minute_that_trades_like_the_open_is() -> None:
    quotes = InMemoryQuotes()
    candles = InMemoryCandles(quotes.candles)
    alerts = InMemoryAlerts()
    t1000, t1001 = timebase.ist_ms(DAY, 10, 0), timebase.ist_ms(DAY, 10, 1)
    cal = default_calendar()
    # earlier sessions: 10:00 trades 40,000 (a busy minute that day after day), 10:01 about 1,000
    candles.put_many([_bar("RELIANCE", s, 40_000) for s in same_minute_starts(t1000, 10, cal)])
    candles.put_many([_bar("RELIANCE", s, 1_000) for s in same_minute_starts(t1001, 10, cal)])
    # this morning's minutes before 10:00 were quiet: against them the 10:00 bar would look like 18x
    candles.put_many([_bar("RELIANCE", t1000 - k * 60_000, 5_000) for k in range(1, 11)])
    rule = make_alert("alr_vol", "RELIANCE", AlertCondition.VOLUME_SPIKE, level=0).model_copy(
        update={"threshold_bps": 300, "lookback": 10, "recurring": True, "cooldown_s": 0}
    )
    alerts.create(rule)
    processor = TickProcessor(quotes, candles, alerts, ManualClock(t1001 + 30_000), timeframes=("1m",))

    day_volume = 90_000
    first = processor.process(
        [
            make_tick("RELIANCE", 1, t1000 + 1_000, qty=60_000, volume=60_000),
            make_tick("RELIANCE", 2, t1000 + 2_000, qty=30_000, volume=day_volume),
        ]
    )
    assert first.triggers == 0  # ~2x the usual 10:00 volume at most: not 3x

    spike = processor.process(
        [make_tick("RELIANCE", 3, t1001 + 5_000, qty=20_000, volume=day_volume + 20_000)]
    )
    assert spike.triggers == 1  # 20x what 10:01 usually trades
    fired = [n for n in alerts.items.values() if n.alert_id == "alr_vol"]
    assert fired and fired[0].trigger_count == 1
