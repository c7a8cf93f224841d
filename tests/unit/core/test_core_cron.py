"""EventBridge cron expressions evaluated in Asia/Kolkata, as the local scheduler fires them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mantra.catalog import MARKET_HOURS_EVERY_5_MIN
from mantra.runtime.cron import Cron, CronError

KOLKATA = "Asia/Kolkata"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def market() -> Cron:
    return Cron.parse("0/5 9-15 ? * MON-FRI *", KOLKATA)


def test_the_catalog_market_hours_schedule_is_the_expression_under_test() -> None:
    assert MARKET_HOURS_EVERY_5_MIN == "0/5 9-15 ? * MON-FRI *"


def test_market_schedule_fires_at_0900_ist_on_monday_which_is_0330_utc(market: Cron) -> None:
    # Given Monday 23 Nov 2026, 09:00 IST = 03:30 UTC / Then it matches; 03:00 UTC (08:30 IST) does not
    assert market.matches(utc(2026, 11, 23, 3, 30))
    assert not market.matches(utc(2026, 11, 23, 3, 0))
    assert not market.matches(utc(2026, 11, 23, 3, 31))  # not on the 5-minute grid


def test_market_schedule_covers_the_15_oclock_hour_and_stops_at_16_ist(market: Cron) -> None:
    assert market.matches(utc(2026, 11, 23, 10, 25))  # 15:55 IST
    assert not market.matches(utc(2026, 11, 23, 10, 30))  # 16:00 IST


def test_market_schedule_does_not_fire_on_saturday_or_sunday(market: Cron) -> None:
    assert not market.matches(utc(2026, 11, 28, 4, 0))  # Saturday 09:30 IST
    assert not market.matches(utc(2026, 11, 29, 4, 0))  # Sunday 09:30 IST
    assert market.matches(utc(2026, 11, 27, 4, 0))  # Friday 09:30 IST


def test_weekday_is_judged_in_ist_not_utc() -> None:
    # Given "03:30 on Mondays" in IST / When it is Sunday 22:00 UTC (= Monday 03:30 IST) / Then it fires
    monday = Cron.parse("30 3 ? * MON *", KOLKATA)
    assert monday.matches(utc(2026, 11, 22, 22, 0))
    # And Monday 03:30 UTC (= Monday 09:00 IST) is not 03:30 in IST
    assert not monday.matches(utc(2026, 11, 23, 3, 30))


def test_next_after_friday_close_is_monday_0900_ist(market: Cron) -> None:
    # Given Friday 27 Nov 2026 at 16:00 IST / When asking for the next run / Then Monday 30 Nov 09:00 IST
    nxt = market.next_after(utc(2026, 11, 27, 10, 30))
    assert nxt == utc(2026, 11, 30, 3, 30)


def test_next_after_is_strictly_later_and_on_the_grid(market: Cron) -> None:
    assert market.next_after(utc(2026, 11, 23, 3, 30)) == utc(2026, 11, 23, 3, 35)
    assert market.next_after(utc(2026, 11, 23, 3, 32, 59, 999)) == utc(2026, 11, 23, 3, 35)


def test_lists_ranges_and_names_parse() -> None:
    c = Cron.parse("15,45 9 1 JAN,JUL ? *", KOLKATA)
    assert c.minutes == frozenset({15, 45}) and c.months == frozenset({1, 7})
    assert c.matches(utc(2026, 7, 1, 3, 45))  # 09:15 IST, 1 July
    assert not c.matches(utc(2026, 8, 1, 3, 45))


def test_sunday_is_day_1_and_saturday_day_7_as_in_eventbridge() -> None:
    assert Cron.parse("0 12 ? * 1 *", KOLKATA).matches(utc(2026, 11, 29, 6, 30))  # Sunday 12:00 IST
    assert Cron.parse("0 12 ? * 7 *", KOLKATA).matches(utc(2026, 11, 28, 6, 30))  # Saturday 12:00 IST


@pytest.mark.parametrize(
    "expression",
    ["0 9 * * *", "60 9 ? * MON *", "0 24 ? * MON *", "0 9 ? * FUNDAY *", "0 9 ? 13 * *", "0 9 L * ? *"],
)
def test_invalid_expressions_are_refused_with_cron_error(expression: str) -> None:
    with pytest.raises(CronError):
        Cron.parse(expression, KOLKATA)


def test_an_expression_that_never_matches_is_reported() -> None:
    with pytest.raises(CronError, match="no time matches"):
        Cron.parse("0 9 31 2 ? *", KOLKATA).next_after(utc(2026, 1, 1), horizon_days=3)


def test_a_plain_value_next_to_an_increment_in_a_list_stays_a_single_value() -> None:
    assert Cron.parse("1,30/15 * ? * * *", KOLKATA).minutes == frozenset({1, 30, 45})
