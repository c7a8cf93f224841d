"""Our NSE calendar for 2015-2027 against independent implementations, and against the exchange's own files.

The references: pandas_market_calendars' XNSE, exchange_calendars' XBOM (BSE shuts on NSE's holidays) and the
``holidays`` package's NSE calendar. Every day one of them disagrees with us on is listed below with the reason;
the test fails both on a new difference and on a listed one that no longer differs, so the lists stay true.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources

import exchange_calendars as xc
import holidays
import pandas_market_calendars as pmc
import pytest
from mantra.clock import IST
from mantra.market.calendar import SessionKind, default_calendar
from nse_files import nse_data_dir

# pandas_market_calendars reads Series.values on tz-aware columns, which pandas 3.1 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Series.values returning an ndarray:Warning")

CAL = default_calendar()
YEARS = range(2015, 2028)
LAST_PUBLISHED = 2026  # NSE publishes a year's holidays in December; the references stop where it did

# Weekend sessions: every reference builds sessions from a Mon-Fri mask, so none of them can hold these.
WEEKEND_SESSIONS = {
    date(2015, 2, 28): "Union Budget, Saturday",
    date(2016, 10, 30): "Muhurat trading, Sunday",
    date(2019, 10, 27): "Muhurat trading, Sunday",
    date(2020, 2, 1): "Union Budget, Saturday",
    date(2020, 11, 14): "Muhurat trading, Saturday",
    date(2023, 11, 12): "Muhurat trading, Sunday",
    date(2024, 1, 20): "special live session, Saturday",
    date(2024, 3, 2): "DR-site live session, Saturday",
    date(2024, 5, 18): "DR-site live session, Saturday",
    date(2025, 2, 1): "Union Budget, Saturday",
    date(2026, 2, 1): "Union Budget, Sunday",
}
WEEKEND_TRADING = {d: why for d, why in WEEKEND_SESSIONS.items() if "Muhurat" not in why}

# XNSE counts a weekday Muhurat evening as a session; we keep the day a holiday with a Muhurat special session.
XNSE_MUHURAT_DAYS = {
    date(2015, 11, 11): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2017, 10, 19): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2018, 11, 7): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2021, 11, 4): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2022, 10, 24): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2024, 11, 1): "Diwali Laxmi Pujan: Muhurat evening only",
    date(2025, 10, 21): "Diwali Laxmi Pujan: Muhurat evening only",
}

# The holidays package misses the ad hoc closures and kept two dates NSE later revised.
HOLIDAYS_PKG = {
    date(2015, 10, 23): "it closes for Muharram; NSE and both other references traded that Friday",
    date(2019, 4, 29): "no entry: Lok Sabha election in Mumbai",
    date(2019, 10, 21): "no entry: Maharashtra assembly election",
    date(2023, 6, 28): "it keeps the first circular's Bakri Id; NSE moved the holiday to 29 Jun",
    date(2023, 6, 29): "it keeps the first circular's Bakri Id; NSE moved the holiday to 29 Jun",
    date(2024, 1, 22): "no entry: special holiday for the Ram Lalla Pran Pratishtha",
    date(2024, 5, 20): "no entry: Lok Sabha election in Mumbai",
    date(2024, 11, 20): "no entry: Maharashtra assembly election",
    date(2026, 1, 15): "no entry: Maharashtra municipal corporation elections",
}

KNOWN = {
    "XNSE": WEEKEND_TRADING | XNSE_MUHURAT_DAYS,
    "XBOM": WEEKEND_TRADING,
    "holidays.NSE": WEEKEND_TRADING | HOLIDAYS_PKG,
}


def _days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(n) for n in range((date(year, 12, 31) - start).days + 1)]


@cache
def _xnse_all():  # type: ignore[no-untyped-def]
    return pmc.get_calendar("XNSE").schedule(start_date=f"{YEARS[0]}-01-01", end_date=f"{YEARS[-1]}-12-31")


def _xnse_schedule(year: int):  # type: ignore[no-untyped-def]
    sched = _xnse_all()
    return sched[sched.index.year == year]


@cache
def _xbom() -> xc.ExchangeCalendar:
    return xc.get_calendar("XBOM", start="2015-01-01", end=f"{LAST_PUBLISHED}-12-31")


def _reference_sessions(name: str, year: int) -> set[date]:
    if name == "XNSE":
        return {ix.date() for ix in _xnse_schedule(year).index}
    if name == "XBOM":
        return {s.date() for s in _xbom().sessions_in_range(f"{year}-01-01", f"{year}-12-31")}
    closed = holidays.NSE(years=year)
    return {d for d in _days(year) if d.weekday() < 5 and d not in closed}


@pytest.mark.parametrize("reference", sorted(KNOWN))
@pytest.mark.parametrize("year", range(2015, LAST_PUBLISHED + 1))
def test_our_trading_days_equal_the_reference_calendars_but_for_named_exceptions(
    year: int, reference: str
) -> None:
    # Given our trading days for the year and the reference's sessions
    ours = set(CAL.trading_days(date(year, 1, 1), date(year, 12, 31)))
    theirs = _reference_sessions(reference, year)
    # Then they differ on exactly the listed days
    expected = {d for d in KNOWN[reference] if d.year == year}
    differ = ours ^ theirs
    assert differ == expected, (
        f"{reference} {year}: unexplained {sorted(differ - expected)}; listed but equal {sorted(expected - differ)}"
    )
    assert ours, "a year with no trading days means the data did not load"


def test_2027_is_provisional_and_only_the_holidays_package_covers_it() -> None:
    # Given NSE's 2027 circular is not out: every 2027 holiday we list is marked provisional
    ours = {d for d in CAL.holidays if d.year == 2027}
    assert ours and all(d.weekday() < 5 for d in ours)
    assert len(ours) >= 9, "the year's fixed and estimated festival closures"
    # and the references say so: XBOM refuses the year, XNSE has no 2027 holidays at all (a library release
    # that adds them makes this fail: then compare 2027 like the other years)
    with pytest.raises(ValueError, match="2026"):
        xc.get_calendar("XBOM", start="2027-01-01", end="2027-12-31")
    xnse_2027 = _reference_sessions("XNSE", 2027)
    assert {d for d in _days(2027) if d.weekday() < 5} == xnse_2027
    # The holidays package (our 2027 source, so not an independent check) agrees date for date
    assert set(CAL.trading_days(date(2027, 1, 1), date(2027, 12, 31))) == _reference_sessions(
        "holidays.NSE", 2027
    )


def test_every_2027_holiday_is_marked_provisional_in_the_data() -> None:
    raw = json.loads(resources.files("mantra.data").joinpath("nse_holidays.json").read_text())
    by_year = {y: [h for h in raw["holidays"] if h["date"].startswith(str(y))] for y in YEARS}
    assert all(h.get("provisional") for h in by_year[2027])
    assert not any(h.get("provisional") for y in range(2015, 2027) for h in by_year[y])
    # every year has a named holiday list, each entry with its name
    assert all(len(by_year[y]) >= 9 and all(h["name"].strip() for h in by_year[y]) for y in YEARS)


def test_weekday_muhurat_windows_equal_xnse_special_opens_and_closes() -> None:
    # Given every Muhurat session in our data up to the last published year
    muhurat = [
        s for s in CAL.special_sessions.values() if s.kind is SessionKind.MUHURAT and s.date.year <= 2026
    ]
    checked = 0
    for s in muhurat:
        if s.date in WEEKEND_SESSIONS:
            continue  # XNSE cannot hold a weekend session (listed above)
        if s.provisional:
            continue
        row = _xnse_schedule(s.date.year).loc[s.date.isoformat()]
        # Then XNSE's session that evening has the same IST open and close
        assert (row.market_open.tz_convert(IST).time(), row.market_close.tz_convert(IST).time()) == (
            s.open,
            s.close,
        ), s.date
        checked += 1
    assert checked == len(XNSE_MUHURAT_DAYS)
    # and every Diwali of 2015-2025 has its Muhurat session, weekday or weekend
    assert {s.date.year for s in muhurat} >= set(range(2015, 2026))


def test_the_exchanges_own_bhavcopies_fall_on_exactly_our_trading_days() -> None:
    # Given the real full bhavcopies for Jan-Apr 2025 (the README says the Budget Saturday's file is not there)
    files = sorted((nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"))
    published = {datetime.strptime(f.stem.rsplit("_", 1)[1], "%d%m%Y").date() for f in files}
    assert len(published) >= 80
    first, last = min(published), max(published)
    # Then every file is a trading day, and the only trading day without a file is 2025-02-01
    assert set(CAL.trading_days(first, last)) - published == {date(2025, 2, 1)}
    assert published <= set(CAL.trading_days(first, last))
