"""Write ``mantra/data/nse_holidays.json``'s holidays and special sessions for 2015-2027, once, from
independent calendars; the product reads only the committed file.

    .venv/bin/python bench/nse_calendar_data.py          # rewrite the file
    .venv/bin/python bench/nse_calendar_data.py --check  # say what would change, write nothing

Dates (2015-2026): the weekdays exchange_calendars' XBOM (BSE closes on NSE's holidays) does not trade, which
must equal pandas_market_calendars' XNSE closed days plus its weekday Muhurat sessions; the script stops on any
disagreement instead of choosing. Muhurat times: XNSE's special opens/closes. Names: the ``holidays`` package's
NSE calendar, spelled as NSE's circulars spell them, with the ad hoc closures it lacks named here. 2027: NSE has
not published its circular yet, so the ``holidays`` package's (partly estimated) dates, marked provisional.
Weekend sessions: no library can hold them (their sessions come from a Mon-Fri mask), so they are listed here
from NSE's circulars. Entries already in the file keep their names (and flags) when the date agrees.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, time
from pathlib import Path
from typing import Any

import exchange_calendars as xc
import holidays
import pandas as pd
import pandas_market_calendars as pmc

DATA = Path(__file__).resolve().parents[1] / "layers/core/mantra/data/nse_holidays.json"
FIRST, LAST_PUBLISHED, LAST = 2015, 2026, 2027
IST = "Asia/Kolkata"

# holidays.NSE's names -> the names in NSE's holiday circulars
NAMES = {
    "Republic Day": "Republic Day",
    "Maha Shivaratri": "Mahashivratri",
    "Holi": "Holi",
    "Mahavir Jayanti": "Shri Mahavir Jayanti",
    "Good Friday": "Good Friday",
    "Dr. B. R. Ambedkar Jayanti": "Dr. Baba Saheb Ambedkar Jayanti",
    "Maharashtra Day": "Maharashtra Day",
    "Ganesh Chaturthi": "Ganesh Chaturthi",
    "Eid al-Adha": "Bakri Id",
    "Eid al-Fitr": "Id-Ul-Fitr (Ramadan Eid)",
    "Gandhi Jayanti": "Mahatma Gandhi Jayanti",
    "Dussehra": "Dussehra",
    "Ashura": "Muharram",
    "Diwali Lakshmi Puja": "Diwali Laxmi Pujan",
    "Diwali Balipratipada": "Diwali Balipratipada",
    "Guru Nanak Jayanti": "Gurunanak Jayanti",
    "Christmas Day": "Christmas",
    "Ram Navami": "Shri Ram Navami",
    "Independence Day": "Independence Day",
}

# closures the holidays package does not have (or has on another day)
CLOSURES = {
    date(2019, 4, 29): "General elections (Mumbai)",
    date(2019, 10, 21): "Maharashtra assembly elections",
    date(2023, 6, 29): "Bakri Id (moved from 28 Jun by NSE's revised circular)",
    date(2024, 1, 22): "Special holiday (Shri Ram Lalla Pran Pratishtha)",
    date(2024, 5, 20): "General elections (Mumbai)",
    date(2024, 11, 20): "Maharashtra assembly elections",
    date(2026, 1, 15): "Municipal corporation elections (Maharashtra)",
}

FULL_DAY = [{"open": "09:15", "close": "15:30"}]
DR_SWITCH = [{"open": "09:15", "close": "10:00"}, {"open": "11:30", "close": "12:30"}]

# weekend sessions from NSE's circulars (kind "weekend": a trading day; "muhurat": the Diwali evening only)
WEEKEND: list[dict[str, Any]] = [
    {"date": "2015-02-28", "name": "Union Budget (Saturday session)", "kind": "weekend", "windows": FULL_DAY},
    {"date": "2016-10-30", "name": "Muhurat trading", "kind": "muhurat", "open": "18:30", "close": "19:30"},
    {"date": "2019-10-27", "name": "Muhurat trading", "kind": "muhurat", "open": "18:15", "close": "19:15"},
    {"date": "2020-02-01", "name": "Union Budget (Saturday session)", "kind": "weekend", "windows": FULL_DAY},
    {"date": "2020-11-14", "name": "Muhurat trading", "kind": "muhurat", "open": "18:15", "close": "19:15"},
    {"date": "2023-11-12", "name": "Muhurat trading", "kind": "muhurat", "open": "18:15", "close": "19:15"},
    {
        "date": "2024-01-20",
        "name": "Special live session (Saturday; made a full day for the 22 Jan holiday)",
        "kind": "weekend",
        "windows": FULL_DAY,
    },
    {
        "date": "2024-03-02",
        "name": "Special live session (Saturday; intraday switch to the DR site)",
        "kind": "weekend",
        "windows": DR_SWITCH,
    },
    {
        "date": "2024-05-18",
        "name": "Special live session (Saturday; intraday switch to the DR site)",
        "kind": "weekend",
        "windows": DR_SWITCH,
    },
    {"date": "2025-02-01", "name": "Union Budget (Saturday session)", "kind": "weekend", "windows": FULL_DAY},
    {"date": "2026-02-01", "name": "Union Budget (Sunday session)", "kind": "weekend", "windows": FULL_DAY},
]


def _weekdays(year: int) -> list[date]:
    return [d.date() for d in pd.date_range(f"{year}-01-01", f"{year}-12-31") if d.weekday() < 5]


def _hhmm(ts: pd.Timestamp) -> str:
    return ts.tz_convert(IST).strftime("%H:%M")


def consensus(year: int) -> tuple[dict[date, str], list[dict[str, Any]]]:
    """The year's weekday closures and weekday Muhurat sessions where XBOM and XNSE agree; exits otherwise."""
    days = _weekdays(year)
    xbom = xc.get_calendar("XBOM", start=f"{year}-01-01", end=f"{year}-12-31")
    xbom_open = {d.date() for d in xbom.sessions}
    sched = pmc.get_calendar("XNSE").schedule(start_date=f"{year}-01-01", end_date=f"{year}-12-31")
    xnse = {ix.date(): row for ix, row in sched.iterrows()}
    # an XNSE session opening in the afternoon or evening is a Muhurat session
    muhurat = {d for d, row in xnse.items() if row.market_open.tz_convert(IST).time() >= time(12, 0)}
    closed_xbom = {d for d in days if d not in xbom_open}
    closed_xnse = {d for d in days if d not in xnse} | muhurat
    if closed_xbom != closed_xnse:
        sys.exit(f"{year}: XBOM and XNSE disagree on {sorted(closed_xbom ^ closed_xnse)}; decide by hand")
    names = holidays.NSE(years=year)
    out: dict[date, str] = {}
    for d in sorted(closed_xbom):
        label = CLOSURES.get(d) or names.get(d)
        if label is None:
            sys.exit(f"{d}: closed in both calendars but no name; add it to CLOSURES")
        out[d] = " / ".join(NAMES.get(n.strip(), n.strip()) for n in label.split(";"))
    sessions = [
        {
            "date": d.isoformat(),
            "name": "Muhurat trading",
            "kind": "muhurat",
            "open": _hhmm(xnse[d].market_open),
            "close": _hhmm(xnse[d].market_close),
        }
        for d in sorted(muhurat)
    ]
    return out, sessions


def provisional(year: int) -> dict[date, str]:
    """A year NSE has not published: the holidays package's weekday holidays (estimates among them)."""
    out = {}
    for d, label in sorted(holidays.NSE(years=year).items()):
        if d.weekday() < 5:
            parts = [n.replace("(estimated)", "").strip() for n in label.split(";")]
            out[d] = " / ".join(NAMES.get(n, n) for n in parts)
    return out


def build(current: dict[str, Any]) -> dict[str, Any]:
    known = {h["date"]: h for h in current["holidays"]}
    entries: list[dict[str, Any]] = []
    sessions: list[dict[str, Any]] = list(WEEKEND)
    for year in range(FIRST, LAST + 1):
        if year <= LAST_PUBLISHED:
            closed, muhurat = consensus(year)
            sessions += muhurat
        else:
            closed = provisional(year)
        for d, name in closed.items():
            entry = known.get(d.isoformat()) or {"date": d.isoformat(), "name": name}
            if year > LAST_PUBLISHED:
                entry = {**entry, "provisional": True}
            entries.append(entry)
    # sessions already in the file that no source has (a year whose timing NSE had not notified) stay
    have = {s["date"] for s in sessions}
    for s in current.get("special_sessions", []):
        if s["date"] not in have:  # the file's first sessions were all Muhurat ones, before "kind" existed
            sessions.append({"date": s["date"], "name": s["name"], "kind": s.get("kind", "muhurat")} | s)
    sessions.sort(key=lambda s: s["date"])
    return {**current, "holidays": entries, "special_sessions": sessions}


def dump(data: dict[str, Any]) -> str:
    """One holiday or session per line, as the file has always been laid out."""
    lines = ["{"]
    for i, (key, value) in enumerate(data.items()):
        comma = "," if i < len(data) - 1 else ""
        if key in ("holidays", "special_sessions"):
            rows = [f"    {json.dumps(v, ensure_ascii=False)}" for v in value]
            lines.append(f'  "{key}": [\n' + ",\n".join(rows) + f"\n  ]{comma}")
        elif key == "expiry_rules":
            inner = [f'    "_about": {json.dumps(value["_about"], ensure_ascii=False)}']
            for u, rules in value.items():
                if u != "_about":
                    body = ",\n".join(f"      {json.dumps(r)}" for r in rules)
                    inner.append(f'    "{u}": [\n{body}\n    ]')
            lines.append(f'  "{key}": {{\n' + ",\n".join(inner) + f"\n  }}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print the changes, write nothing")
    args = parser.parse_args()
    current = json.loads(DATA.read_text())
    new = build(current)
    old_h = {h["date"]: h["name"] for h in current["holidays"]}
    new_h = {h["date"]: h["name"] for h in new["holidays"]}
    for d in sorted(old_h.keys() | new_h.keys()):
        if old_h.get(d) != new_h.get(d):
            print(f"{d}: {old_h.get(d)!r} -> {new_h.get(d)!r}")
    if not args.check:
        DATA.write_text(dump(new))
        print(
            f"wrote {DATA} ({len(new['holidays'])} holidays, {len(new['special_sessions'])} special sessions)"
        )


if __name__ == "__main__":
    main()
