"""The NSE calendar: holidays as data, session phases in IST, dated expiry rules with holiday shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from mantra.market.calendar import (
    ExpiryKind,
    NseCalendar,
    Phase,
    SessionKind,
    SessionWindow,
    default_calendar,
    is_trading_day,
)
from mantra.market.session import in_session
from market_fakes import ist_ms

CAL = default_calendar()


def test_weekends_and_listed_holidays_do_not_trade() -> None:
    assert is_trading_day(date(2026, 11, 23))  # Monday
    assert not is_trading_day(date(2026, 11, 24))  # Guru Nanak Jayanti
    assert not is_trading_day(date(2026, 11, 21))  # Saturday
    assert not is_trading_day(date(2025, 10, 21)) and not is_trading_day(date(2026, 1, 26))
    assert CAL.next_trading_day(date(2026, 11, 23)) == date(2026, 11, 25)
    assert CAL.previous_trading_day(date(2026, 11, 24)) == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("hh", "mm", "phase"),
    [
        (8, 59, Phase.CLOSED),
        (9, 0, Phase.PRE_OPEN),
        (9, 7, Phase.PRE_OPEN),
        (9, 8, Phase.PRE_OPEN_MATCHING),
        (9, 14, Phase.PRE_OPEN_MATCHING),
        (9, 15, Phase.OPEN),
        (15, 29, Phase.OPEN),
        (15, 30, Phase.CLOSED),
    ],
)
def test_session_phases_in_ist(hh: int, mm: int, phase: Phase) -> None:
    assert CAL.phase(ist_ms(2026, 11, 23, hh, mm)) is phase


def test_in_session_keeps_its_signature_and_now_knows_holidays() -> None:
    assert in_session(ist_ms(2026, 11, 23, 10, 0))
    assert not in_session(ist_ms(2026, 11, 24, 10, 0))  # a Tuesday, but a holiday
    assert not in_session(ist_ms(2026, 11, 23, 9, 10))  # pre-open is not the session


def _dates(underlying: str, start: date, end: date) -> list[tuple[str, str]]:
    return [(e.date.isoformat(), e.kind.value) for e in CAL.expiries(underlying, start, end)]


def test_nifty_weeklies_moved_from_thursday_to_tuesday_in_september_2025() -> None:
    assert _dates("NIFTY", date(2025, 8, 18), date(2025, 9, 10)) == [
        ("2025-08-21", "weekly"),  # Thursday
        ("2025-08-28", "monthly"),  # last Thursday of August
        ("2025-09-02", "weekly"),  # Tuesday from September
        ("2025-09-09", "weekly"),
    ]
    assert CAL.monthly_expiry("NIFTY", 2025, 9).date == date(2025, 9, 30)  # type: ignore[union-attr]


def test_banknifty_and_finnifty_weeklies_stop_in_november_2024_and_monthlies_continue() -> None:
    bank = _dates("BANKNIFTY", date(2024, 11, 1), date(2024, 12, 31))
    assert bank == [
        ("2024-11-06", "weekly"),
        ("2024-11-13", "weekly"),
        ("2024-11-27", "monthly"),
        ("2024-12-24", "monthly"),  # last Wednesday 25 Dec is Christmas: moved to the day before
    ]
    assert all(k == "monthly" for _, k in _dates("FINNIFTY", date(2024, 12, 1), date(2026, 12, 31)))
    assert _dates("BANKNIFTY", date(2026, 12, 1), date(2026, 12, 31)) == [("2026-12-29", "monthly")]


def test_an_expiry_on_a_holiday_moves_to_the_previous_trading_day() -> None:
    # Given NIFTY's November 2026 monthly: the last Tuesday (24 Nov) is a holiday
    e = CAL.monthly_expiry("NIFTY", 2026, 11)
    # Then it expires on Monday 23 Nov, and says it was shifted
    assert e is not None and (e.date, e.scheduled, e.shifted) == (
        date(2026, 11, 23),
        date(2026, 11, 24),
        True,
    )


def test_next_expiries_from_today() -> None:
    nxt = CAL.next_expiries("NIFTY", date(2026, 11, 25), 3)
    assert [(e.date.isoformat(), e.kind) for e in nxt] == [
        ("2026-12-01", ExpiryKind.WEEKLY),
        ("2026-12-08", ExpiryKind.WEEKLY),
        ("2026-12-15", ExpiryKind.WEEKLY),
    ]
    assert [e.date.isoformat() for e in CAL.next_expiries("BANKNIFTY", date(2026, 12, 30), 1)] == [
        "2027-01-25"
    ]


def test_the_holiday_table_is_data() -> None:
    # Given a calendar built from another year's data / Then it uses that table and those rules
    cal = NseCalendar.from_data(
        {
            "holidays": [{"date": "2030-01-01", "name": "x"}],
            "expiry_rules": {"X": [{"kind": "monthly", "weekday": 0, "from": "2030-01-01", "to": None}]},
        }
    )
    assert not cal.is_trading_day(date(2030, 1, 1))
    assert cal.monthly_expiry("X", 2030, 1).date == date(2030, 1, 28)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="known: X"):
        cal.expiries("NIFTY", date(2030, 1, 1), date(2030, 2, 1))


# special sessions


def test_the_budget_saturday_is_a_trading_day_with_the_normal_session() -> None:
    # Given Saturday 1 Feb 2025, the Union Budget session
    d = date(2025, 2, 1)
    s = CAL.special_session(d)
    assert s is not None and s.kind is SessionKind.WEEKEND
    assert is_trading_day(d) and not CAL.is_holiday(d)
    assert CAL.sessions(d) == (SessionWindow(time(9, 15), time(15, 30)),)
    # Then its phases are a normal day's, and the next Saturday is shut
    assert CAL.phase(ist_ms(2025, 2, 1, 9, 5)) is Phase.PRE_OPEN
    assert CAL.phase(ist_ms(2025, 2, 1, 9, 10)) is Phase.PRE_OPEN_MATCHING
    assert CAL.phase(ist_ms(2025, 2, 1, 11, 0)) is Phase.OPEN and in_session(ist_ms(2025, 2, 1, 15, 29))
    assert CAL.phase(ist_ms(2025, 2, 1, 15, 30)) is Phase.CLOSED
    assert not is_trading_day(date(2025, 2, 8)) and CAL.phase(ist_ms(2025, 2, 8, 11, 0)) is Phase.CLOSED


def test_a_dr_drill_saturday_trades_in_two_windows_each_with_its_pre_open() -> None:
    # Given Saturday 2 Mar 2024: 09:15-10:00 from the primary site, 11:30-12:30 from the DR site
    assert is_trading_day(date(2024, 3, 2)) and is_trading_day(date(2024, 5, 18))
    phases = {
        (9, 0): Phase.PRE_OPEN,
        (9, 30): Phase.OPEN,
        (10, 0): Phase.CLOSED,
        (11, 0): Phase.CLOSED,
        (11, 15): Phase.PRE_OPEN,
        (11, 23): Phase.PRE_OPEN_MATCHING,
        (11, 30): Phase.OPEN,
        (12, 29): Phase.OPEN,
        (12, 30): Phase.CLOSED,
        (14, 0): Phase.CLOSED,
    }
    # Then each moment is in the phase the circular gives it
    assert {hm: CAL.phase(ist_ms(2024, 3, 2, *hm)) for hm in phases} == phases


def test_a_muhurat_evening_is_open_on_a_day_that_is_otherwise_a_holiday() -> None:
    # Given Diwali 1 Nov 2024: a holiday with the Muhurat session 18:00-19:00 IST
    d = date(2024, 11, 1)
    s = CAL.special_session(d)
    assert s is not None and (s.kind, s.open, s.close) == (SessionKind.MUHURAT, time(18, 0), time(19, 0))
    # Then it is not a trading day, but the evening is open
    assert CAL.is_holiday(d) and not is_trading_day(d)
    assert CAL.phase(ist_ms(2024, 11, 1, 10, 0)) is Phase.CLOSED
    assert CAL.phase(ist_ms(2024, 11, 1, 17, 50)) is Phase.PRE_OPEN
    assert CAL.phase(ist_ms(2024, 11, 1, 17, 55)) is Phase.PRE_OPEN_MATCHING
    assert CAL.phase(ist_ms(2024, 11, 1, 18, 30)) is Phase.OPEN and in_session(ist_ms(2024, 11, 1, 18, 59))
    assert CAL.phase(ist_ms(2024, 11, 1, 19, 0)) is Phase.CLOSED
    # and its bounds are the same instants in UTC
    assert s.bounds_ms() == (
        int(datetime(2024, 11, 1, 12, 30, tzinfo=UTC).timestamp() * 1000),
        int(datetime(2024, 11, 1, 13, 30, tzinfo=UTC).timestamp() * 1000),
    )


def test_a_sunday_muhurat_and_an_afternoon_muhurat() -> None:
    # 12 Nov 2023 was a Sunday; 21 Oct 2025's Muhurat ran in the afternoon, 13:45-14:45
    assert not is_trading_day(date(2023, 11, 12)) and CAL.phase(ist_ms(2023, 11, 12, 18, 30)) is Phase.OPEN
    assert CAL.phase(ist_ms(2023, 11, 12, 10, 0)) is Phase.CLOSED
    assert CAL.phase(ist_ms(2025, 10, 21, 14, 0)) is Phase.OPEN
    assert CAL.phase(ist_ms(2025, 10, 21, 18, 30)) is Phase.CLOSED
    assert CAL.special_session(date(2025, 10, 22)) is None  # Balipratipada: a plain holiday


def test_next_and_previous_trading_day_step_onto_weekend_sessions_and_over_muhurat_days() -> None:
    # Onto the Budget Saturday and off it
    assert CAL.next_trading_day(date(2025, 1, 31)) == date(2025, 2, 1)
    assert CAL.next_trading_day(date(2025, 2, 1)) == date(2025, 2, 3)
    assert CAL.previous_trading_day(date(2025, 2, 2)) == date(2025, 2, 1)
    # Saturday 20 Jan 2024 traded in place of Monday 22 Jan (a special holiday)
    assert CAL.next_trading_day(date(2024, 1, 19)) == date(2024, 1, 20)
    assert CAL.next_trading_day(date(2024, 1, 20)) == date(2024, 1, 23)
    # A Muhurat day is skipped both ways: Thu 31 Oct 2024 -> Mon 4 Nov; Sun 12 Nov 2023 -> Fri 10 Nov
    assert CAL.next_trading_day(date(2024, 10, 31)) == date(2024, 11, 4)
    assert CAL.previous_trading_day(date(2024, 11, 1)) == date(2024, 10, 31)
    assert CAL.previous_trading_day(date(2023, 11, 12)) == date(2023, 11, 10)


# expiries in old years


def test_an_old_monthly_expiry_on_a_holiday_moves_back_a_day() -> None:
    # March 2018: the last Thursday (29th) was Mahavir Jayanti; January 2017: the 26th was Republic Day
    e = CAL.monthly_expiry("NIFTY", 2018, 3)
    assert e is not None and (e.date, e.scheduled, e.shifted) == (date(2018, 3, 28), date(2018, 3, 29), True)
    e = CAL.monthly_expiry("BANKNIFTY", 2017, 1)
    assert e is not None and (e.date, e.shifted) == (date(2017, 1, 25), True)
    e = CAL.monthly_expiry("NIFTY", 2016, 6)
    assert e is not None and (e.date, e.shifted) == (date(2016, 6, 30), False)


def test_nifty_weeklies_of_2019_shift_over_holi_and_start_in_february() -> None:
    # NIFTY weekly options began on 11 Feb 2019; Thursday 21 Mar 2019 was Holi
    assert _dates("NIFTY", date(2019, 1, 1), date(2019, 2, 15)) == [
        ("2019-01-31", "monthly"),
        ("2019-02-14", "weekly"),
    ]
    assert _dates("NIFTY", date(2019, 3, 11), date(2019, 4, 5)) == [
        ("2019-03-14", "weekly"),
        ("2019-03-20", "weekly"),  # moved off Holi
        ("2019-03-28", "monthly"),
        ("2019-04-04", "weekly"),
    ]


def test_banknifty_weeklies_begin_in_2016_and_an_expiry_never_lands_on_a_muhurat_session() -> None:
    assert _dates("BANKNIFTY", date(2016, 5, 16), date(2016, 6, 10)) == [
        ("2016-05-26", "monthly"),
        ("2016-06-02", "weekly"),
        ("2016-06-09", "weekly"),
    ]
    # Thursday 4 Nov 2021 was Diwali (Muhurat evening only): that week's NIFTY weekly expired on the Wednesday
    assert ("2021-11-03", "weekly") in _dates("NIFTY", date(2021, 11, 1), date(2021, 11, 12))
    assert not any(
        CAL.special_session(e.date) for e in CAL.expiries("NIFTY", date(2015, 1, 1), date(2026, 12, 31))
    )


def test_an_expiry_moved_off_a_monday_holiday_lands_on_the_saturday_session_before_it() -> None:
    # Given a Monday expiry, a Monday holiday and a full Saturday session before it (as MIDCPNIFTY in Jan 2024)
    cal = NseCalendar.from_data(
        {
            "holidays": [{"date": "2024-01-22", "name": "Special holiday"}],
            "special_sessions": [
                {
                    "date": "2024-01-20",
                    "name": "Saturday",
                    "kind": "weekend",
                    "open": "09:15",
                    "close": "15:30",
                }
            ],
            "expiry_rules": {"MID": [{"kind": "weekly", "weekday": 0, "from": "2024-01-01", "to": None}]},
        }
    )
    # Then that week's expiry is the Saturday
    assert [e.date for e in cal.expiries("MID", date(2024, 1, 15), date(2024, 1, 29))] == [
        date(2024, 1, 15),
        date(2024, 1, 20),
        date(2024, 1, 29),
    ]


# the data is checked as it is read


def _with_session(**session: Any) -> dict[str, Any]:
    return {
        "holidays": [{"date": "2030-10-25", "name": "Diwali"}],
        "special_sessions": [{"date": "2030-10-26", "name": "x", "kind": "weekend", **session}],
    }


@pytest.mark.parametrize(
    ("session", "message"),
    [
        (
            {"open": "09:15", "close": "15:30", "kind": "holiday"},
            r"special_sessions\[0\] \(2030-10-26\): kind 'holiday'",
        ),
        ({"open": "15:30", "close": "09:15"}, "close 09:15:00 is not after open 15:30:00"),
        ({"open": "9.15", "close": "15:30"}, r"special_sessions\[0\]\.open: '9.15' is not a time"),
        ({"date": "2030-10-28", "open": "09:15", "close": "15:30"}, "a weekend session on a Monday"),
        (
            {"date": "2030-10-28", "kind": "muhurat", "open": "18:00", "close": "19:00"},
            "on a normal trading day",
        ),
        (
            {"windows": [{"open": "09:15", "close": "10:00"}, {"open": "09:45", "close": "12:30"}]},
            r"windows\[1\] \(2030-10-26\): window opening 09:45:00 overlaps",
        ),
        (
            {"date": "2030-13-01", "open": "09:15", "close": "15:30"},
            r"special_sessions\[0\]\.date: '2030-13-01'",
        ),
    ],
)
def test_a_bad_special_session_record_is_refused_naming_it(session: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NseCalendar.from_data(_with_session(**session))


def test_a_muhurat_on_a_listed_holiday_and_a_saturday_session_load() -> None:
    cal = NseCalendar.from_data(_with_session(open="09:15", close="15:30"))
    assert cal.is_trading_day(date(2030, 10, 26))  # a Saturday session
    data = _with_session(open="09:15", close="15:30")
    data["special_sessions"].append(
        {"date": "2030-10-25", "name": "Muhurat", "kind": "muhurat", "open": "18:00", "close": "19:00"}
    )
    cal = NseCalendar.from_data(data)
    assert not cal.is_trading_day(date(2030, 10, 25)) and cal.special_session(date(2030, 10, 25)) is not None
    with pytest.raises(ValueError, match=r"holidays\[0\] \(2030-10-25\): no name"):
        NseCalendar.from_data({"holidays": [{"date": "2030-10-25", "name": " "}]})
    with pytest.raises(ValueError, match=r"holidays\[1\]: 2030-10-25 is listed twice"):
        NseCalendar.from_data(
            {"holidays": [{"date": "2030-10-25", "name": "a"}, {"date": "2030-10-25", "name": "b"}]}
        )
