"""The NSE calendar: holidays as data, session phases in IST, dated expiry rules with holiday shifts."""

from __future__ import annotations

from datetime import date

import pytest
from mantra.market.calendar import ExpiryKind, NseCalendar, Phase, default_calendar, is_trading_day
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
