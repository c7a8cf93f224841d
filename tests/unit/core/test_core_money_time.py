"""Money in paise, IST-aligned candle buckets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from core_fakes import ist_ms
from mantra.clock import ist_from_ms, utc_from_ms
from mantra.market.timeframes import bucket_start_ms, session_date, validate_timeframe
from mantra.money import to_paise, to_rupees


@pytest.mark.parametrize(
    ("rupees", "paise"),
    [("2450.35", 245_035), (Decimal("0.05"), 5), (12, 1200), ("1.50", 150), ("-3.10", -310), ("1e2", 10_000)],
)
def test_to_paise_is_exact_for_amounts_with_at_most_two_decimals(rupees, paise) -> None:
    # Given an amount in rupees / When converted / Then it is exact integer paise
    assert to_paise(rupees) == paise


@pytest.mark.parametrize("bad", ["1.005", "0.001", "NaN", "Infinity", "abc", ""])
def test_to_paise_refuses_fractions_of_a_paisa_and_non_numbers(bad) -> None:
    # Given something that is not an exact paise amount / When converted / Then it is refused, never rounded
    with pytest.raises(ValueError):
        to_paise(bad)


def test_to_rupees_round_trips_paise_with_two_decimals() -> None:
    # Given paise / When converted to rupees and back / Then nothing is lost and the scale is 2
    for paise in (0, 5, 128_540, 99_999_999):
        rupees = to_rupees(paise)
        assert rupees.as_tuple().exponent == -2
        assert to_paise(rupees) == paise


def test_ist_from_ms_is_utc_plus_five_thirty() -> None:
    # Given 03:45 UTC / When read in IST / Then it is 09:15 on the same day
    ms = int(utc_from_ms(0).replace(year=2026, month=11, day=23, hour=3, minute=45).timestamp() * 1000)
    local = ist_from_ms(ms)
    assert (local.hour, local.minute, local.utcoffset().total_seconds()) == (9, 15, 19_800)


def test_session_date_is_the_ist_calendar_date_not_the_utc_one() -> None:
    # Given 00:30 IST on the 24th (= 19:00 UTC on the 23rd) / Then the session date is the 24th
    assert session_date(ist_ms(2026, 11, 24, 0, 30)) == "2026-11-24"
    assert utc_from_ms(ist_ms(2026, 11, 24, 0, 30)).day == 23


def test_hourly_buckets_are_anchored_at_the_0915_ist_open() -> None:
    # Given ticks at 10:14:59 and 10:15:00 IST / When bucketed hourly / Then they fall in 09:15 and 10:15
    assert bucket_start_ms(ist_ms(2026, 11, 23, 10, 14, 59), "1h") == ist_ms(2026, 11, 23, 9, 15)
    assert bucket_start_ms(ist_ms(2026, 11, 23, 10, 15, 0), "1h") == ist_ms(2026, 11, 23, 10, 15)
    assert bucket_start_ms(ist_ms(2026, 11, 23, 15, 29, 59), "1h") == ist_ms(2026, 11, 23, 15, 15)


@pytest.mark.parametrize(
    ("tf", "tick", "start"),
    [
        ("1m", (9, 15, 59), (9, 15, 0)),
        ("5m", (9, 19, 59), (9, 15, 0)),
        ("5m", (9, 20, 0), (9, 20, 0)),
        ("15m", (9, 44, 59), (9, 30, 0)),
        ("15m", (15, 29, 0), (15, 15, 0)),
    ],
)
def test_intraday_buckets_start_on_the_session_grid(tf, tick, start) -> None:
    # Given a tick time in IST / When bucketed / Then the bucket starts on the 09:15-anchored grid
    assert bucket_start_ms(ist_ms(2026, 11, 23, *tick), tf) == ist_ms(2026, 11, 23, *start)


def test_pre_open_ticks_fall_in_buckets_counted_back_from_the_open() -> None:
    # Given a pre-open tick at 09:10 IST / When bucketed hourly / Then its bucket starts at 08:15 IST
    assert bucket_start_ms(ist_ms(2026, 11, 23, 9, 10), "1h") == ist_ms(2026, 11, 23, 8, 15)
    assert bucket_start_ms(ist_ms(2026, 11, 23, 9, 14, 59, 999), "1m") == ist_ms(2026, 11, 23, 9, 14)


def test_daily_bucket_is_ist_midnight_even_late_in_the_utc_day() -> None:
    # Given 23:59 IST and 00:01 IST the next day / Then they are in different daily buckets at IST midnight
    assert bucket_start_ms(ist_ms(2026, 11, 23, 23, 59), "1d") == ist_ms(2026, 11, 23)
    assert bucket_start_ms(ist_ms(2026, 11, 24, 0, 1), "1d") == ist_ms(2026, 11, 24)


def test_unknown_timeframe_is_refused_with_the_valid_choices() -> None:
    assert validate_timeframe("15m") == "15m"
    with pytest.raises(ValueError, match="1m, 5m, 15m, 1h, 1d"):
        validate_timeframe("2m")
