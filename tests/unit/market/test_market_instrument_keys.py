"""Exchange-qualified keys, both brokers' tokens, broker disagreements and bad rows in the instrument master.

The dumps are the bundled real-shaped samples, plus BSE rows written the way each broker writes them (Kite:
BSE RELIANCE is instrument_token 128083204, exchange_token 500325, tick 0.05 rupees; Angel: token 500325,
tick "5.000000" paise).
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from mantra.market.instrument_master import (
    BUNDLED_ANGEL,
    BUNDLED_KITE,
    ParsedDump,
    load_dump,
    merge_dumps,
    parse_angel,
    parse_dump,
    parse_kite,
    refresh,
)
from mantra.market.instruments import AmbiguousToken, instrument_key, storage_candidates
from market_fakes import Master

KITE_HEADER = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,"
    "instrument_type,segment,exchange"
)
KITE_BSE = [
    "128083204,500325,RELIANCE,RELIANCE INDUSTRIES,1285.35,,0,0.05,1,EQ,BSE,BSE",
    "128028676,500112,SBIN,STATE BANK OF INDIA,812.40,,0,0.05,1,EQ,BSE,BSE",
    "265,1,SENSEX,SENSEX,80120.55,,0,0,0,EQ,INDICES,BSE",
]
ANGEL_BSE = [
    {"token": "500325", "symbol": "RELIANCE", "name": "RELIANCE", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "", "exch_seg": "BSE", "tick_size": "5.000000"},
    {"token": "500112", "symbol": "SBIN", "name": "SBIN", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "", "exch_seg": "BSE", "tick_size": "5.000000"},
    {"token": "99919000", "symbol": "SENSEX", "name": "SENSEX", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "BSE", "tick_size": "-1.000000"},
]  # fmt: skip


def _kite_text() -> str:
    return resources.files("mantra.data").joinpath("kite_instruments_sample.csv").read_text()


def _angel_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads(
        resources.files("mantra.data").joinpath("angel_scrip_master_sample.json").read_text()
    )
    return rows


def _kite_with_bse() -> ParsedDump:
    return parse_kite(_kite_text().rstrip("\n") + "\n" + "\n".join(KITE_BSE) + "\n")


def _angel_with_bse() -> ParsedDump:
    return parse_angel([*_angel_rows(), *ANGEL_BSE])


def test_nse_and_bse_listings_of_one_symbol_are_two_instruments() -> None:
    # Given Kite's dump listing RELIANCE and SBIN on both NSE and BSE
    master = merge_dumps([_kite_with_bse()]).master
    # Then each exchange's listing is its own instrument, with its own token
    nse, bse = master.get("NSE:RELIANCE"), master.get("BSE:RELIANCE")
    assert nse is not None and bse is not None
    assert (nse.exchange, nse.token, bse.exchange, bse.token) == ("NSE", "738561", "BSE", "128083204")
    assert bse.broker_tokens["kite_exchange"] == "500325" and bse.tick_size_paise == 5
    # And a bare symbol is still the NSE equity; an index found only on BSE resolves there
    assert master.get("RELIANCE") == nse and master.get("nse:RELIANCE") == nse
    sensex = master.get("SENSEX")
    assert sensex is not None and instrument_key(sensex) == "BSE:SENSEX" and sensex.instrument_type == "INDEX"
    assert master.get("NSE:SENSEX") is None
    # And indices and contracts are keyed by exchange too
    assert master.get("NSE:NIFTY 50") is not None and master.get("NFO:NIFTY26DEC24000CE") is not None
    assert master.get("BFO:NIFTY26DEC24000CE") is None


def test_refresh_stores_nse_and_bse_side_by_side_instead_of_the_last_row_winning() -> None:
    # Given an empty master store
    store = Master()
    # When both brokers' dumps with the BSE rows are loaded
    report = refresh(store, [_angel_with_bse(), _kite_with_bse()])
    # Then NSE RELIANCE keeps its bare key, BSE RELIANCE sits beside it, and the counts say so
    assert store.items["RELIANCE"].exchange == "NSE" and store.items["BSE:RELIANCE"].exchange == "BSE"
    assert report.by_exchange["BSE"] == len(KITE_BSE) and report.loaded == len(store.items)
    assert report.bad_rows == 0 and report.conflicts == 0
    assert storage_candidates("BSE:RELIANCE") == ["BSE:RELIANCE"]
    assert storage_candidates("NSE:RELIANCE") == ["RELIANCE"]
    # And loading the same dumps again writes nothing
    again = refresh(store, [_angel_with_bse(), _kite_with_bse()])
    assert (again.written, again.unchanged) == (0, report.loaded)


def test_every_instrument_carries_both_brokers_tokens_and_each_finds_it() -> None:
    # Given the Angel and Kite dumps merged, Angel first (the primary)
    merged = merge_dumps([_angel_with_bse(), _kite_with_bse()])
    master = merged.master
    # Then every instrument holds Angel's token and Kite's two, and the primary token is Angel's
    assert len(master) == len(_angel_with_bse().instruments)
    for inst in master:
        assert set(inst.broker_tokens) == {"angel", "kite", "kite_exchange"}, instrument_key(inst)
        assert inst.token == inst.broker_tokens["angel"]
    # And each broker's token leads back to the same instrument
    bse = master.get("BSE:RELIANCE")
    assert bse is not None
    assert master.by_token("kite", "128083204") == bse
    assert master.by_token("angel", "500325", exchange="BSE") == bse == master.by_token("angel", "500325")
    assert master.by_token("kite_exchange", "500325") == bse
    fut = master.get("NFO:NIFTY26DECFUT")
    assert fut is not None and master.by_token("angel", fut.broker_tokens["angel"], "NFO") == fut
    assert master.by_token("kite", "999999999") is None


def test_an_angel_token_two_segments_use_needs_the_exchange() -> None:
    # Given an NSE row whose token an NFO contract also uses (Angel numbers each segment on its own)
    rows = _angel_rows()
    contract = next(r for r in rows if r["exch_seg"] == "NFO")
    clash = {**rows[0], "token": contract["token"], "symbol": "NIFTYBEES-EQ", "name": "NIFTYBEES"}
    master = merge_dumps([parse_angel([*rows, clash])]).master
    # Then the bare token is refused with the exchanges named, and each exchange's lookup answers
    with pytest.raises(AmbiguousToken, match=r"NSE, NFO|NFO, NSE"):
        master.by_token("angel", contract["token"])
    nse = master.by_token("angel", contract["token"], "NSE")
    nfo = master.by_token("angel", contract["token"], "NFO")
    assert nse is not None and nse.symbol == "NIFTYBEES"
    assert nfo is not None and nfo.exchange == "NFO" and nfo.instrument_type in ("CE", "PE")


def test_tick_sizes_convert_exactly_from_kite_rupees_and_angel_paise() -> None:
    # Given the brokers' own tick formats (Kite rupees "0.05" / "0.1", Angel paise "5.000000" / "10.000000")
    kite = {i.symbol: i for i in load_dump(BUNDLED_KITE).instruments}
    angel = {i.symbol: i for i in load_dump(BUNDLED_ANGEL).instruments}
    # Then both give whole paise, equal instrument by instrument
    assert (kite["SBIN"].tick_size_paise, kite["RELIANCE"].tick_size_paise) == (5, 10)
    assert all(angel[s].tick_size_paise == k.tick_size_paise for s, k in kite.items())
    # And a stock option strike in half rupees, and a BSE penny tick, are exact
    text = "\n".join([
        KITE_HEADER,
        "12345678,48223,RELIANCE26DEC1282.5PE,RELIANCE,0,2026-12-29,1282.5,0.05,500,PE,NFO-OPT,NFO",
        "128100612,500400,TATAPOWER,TATA POWER CO.,412.35,,0,0.01,1,EQ,BSE,BSE",
    ])  # fmt: skip
    got = {i.symbol: i for i in parse_kite(text).instruments}
    assert got["RELIANCE26DEC1282.5PE"].strike_paise == 128_250
    assert got["TATAPOWER"].tick_size_paise == 1


def test_bad_rows_are_reported_by_row_column_and_value_and_the_rest_loads() -> None:
    # Given Kite's sample with malformed rows spliced in between good ones
    good = _kite_text().rstrip("\n").split("\n")
    bad = [
        "x738561,2885,RELIANCE2,RELIANCE INDUSTRIES,1285.40,,0,0.1,1,EQ,NSE,NSE",  # token not digits
        "2953218,11537,TCS2,TCS,3920.50,,0,0.033,1,EQ,NSE,NSE",  # 3.3 paise
        "10267651,40109,NIFTY26D0123850CE2,NIFTY,0,01-12-2026,23850.0,0.05,65,CE,NFO-OPT,NFO",  # expiry
        "10267652,40110,NIFTY26D0123860CE,NIFTY,0,2026-12-01,23850.0,0.05,0,CE,NFO-OPT,NFO",  # lot 0
        "10267653,40111,NIFTY26D0123870CE,NIFTY,0,2026-12-01,abc,0.05,65,CE,NFO-OPT,NFO",  # strike
        "10267654,40112,NIFTY26D0123880CE,NIFTY,0,2026-12-01",  # cut short
        "408066,1595,INFY2,INFOSYS,1580.20,,0,0.1,1,EQ,NSE,NSE,extra",  # a field too many
    ]
    lines = [*good[:5], bad[0], bad[1], *good[5:20], *bad[2:], *good[20:]]
    dump = parse_kite("\n".join(lines) + "\n")
    # Then every good row loads, and each bad one is named by its line, column and value
    assert len(dump.instruments) == len(load_dump(BUNDLED_KITE).instruments)
    found = {(i.row, i.column, i.value) for i in dump.issues}
    assert found == {
        (6, "instrument_token", "x738561"),
        (7, "tick_size", "0.033"),
        (23, "expiry", "01-12-2026"),
        (24, "lot_size", "0"),
        (25, "strike", "abc"),
        (26, "strike", ""),  # the first column the short row lacks
        (27, "(row)", "extra"),
    }
    assert "not a whole number of paise" in next(i.reason for i in dump.issues if i.column == "tick_size")
    # And the report carries them, readable, with the source named
    report = refresh(Master(), dump)
    assert report.bad_rows == 7 and report.loaded == len(dump.instruments)
    assert any("row 7, column tick_size, value '0.033'" in line for line in report.issues)


def test_bad_angel_rows_are_reported_and_never_sink_their_neighbours() -> None:
    rows: list[object] = list(_angel_rows())
    first_nfo = next(n for n, r in enumerate(_angel_rows()) if r["exch_seg"] == "NFO")
    broken = dict(_angel_rows()[first_nfo])
    rows[first_nfo] = {**broken, "strike": "2385000.5"}  # half a paisa
    rows.insert(3, "not an object")
    rows.insert(5, {k: v for k, v in _angel_rows()[0].items() if k != "lotsize"})
    rows.append({**_angel_rows()[1], "tick_size": "2.500000"})  # 2.5 paise: no NSE tick is that
    dump = parse_angel(rows)
    assert {(i.row, i.column) for i in dump.issues} == {
        (4, "(row)"),
        (6, "lotsize"),
        (first_nfo + 3, "strike"),
        (len(rows), "tick_size"),
    }
    assert len(dump.instruments) == len(_angel_rows()) - 1  # only the broken contract is lost


def test_a_key_listed_twice_in_one_dump_is_reported_and_the_first_row_kept() -> None:
    text = _kite_text().rstrip("\n") + "\n738562,2886,RELIANCE,RELIANCE DUP,0,,0,0.05,1,EQ,NSE,NSE\n"
    merged = merge_dumps([parse_kite(text)])
    reliance = merged.master.get("NSE:RELIANCE")
    assert reliance is not None and reliance.token == "738561" and reliance.tick_size_paise == 10
    [(source, issue)] = merged.issues
    assert source == "kite"
    assert (issue.row, issue.column, issue.value) == (len(text.splitlines()), "tradingsymbol", "RELIANCE")
    assert "NSE:RELIANCE again (first on row 2)" in issue.reason


def test_brokers_disagreeing_on_lot_or_tick_are_listed_not_silently_resolved() -> None:
    # Given Kite's dump with one NIFTY contract's lot size and RELIANCE's tick differing from Angel's
    text = _kite_text()
    text = text.replace(
        "NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.05,65,", "NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.05,75,"
    )
    text = text.replace(
        "RELIANCE,RELIANCE INDUSTRIES,1285.40,,0,0.1,", "RELIANCE,RELIANCE INDUSTRIES,1285.40,,0,0.05,"
    )
    # When both are merged, Angel first
    merged = merge_dumps([load_dump(BUNDLED_ANGEL), parse_dump(text)])
    # Then exactly those two disagreements are listed, each with both brokers' values
    got = {(c.key, c.field): c.values for c in merged.master.conflicts}
    assert got == {
        ("NFO:NIFTY26DECFUT", "lot_size"): {"angel": "65", "kite": "75"},
        ("NSE:RELIANCE", "tick_size_paise"): {"angel": "10", "kite": "5"},
    }
    # And the report says so in words
    report = refresh(Master(), [load_dump(BUNDLED_ANGEL), parse_dump(text)])
    assert report.conflicts == 2
    assert "NSE:RELIANCE: tick_size_paise differs (angel says 10, kite says 5)" in report.conflict_list


def test_an_underlyings_contracts_list_expiries_strikes_and_lot_size() -> None:
    master = merge_dumps([load_dump(BUNDLED_KITE)]).master
    # NIFTY in the sample: weeklies on 1 and 8 Dec, the monthly on 29 Dec, and January
    expiries = master.expiries("NIFTY")
    assert expiries == sorted(expiries) and expiries[:3] == ["2026-12-01", "2026-12-08", "2026-12-29"]
    series = {s.expiry: s for s in master.series("NIFTY")}
    dec = series["2026-12-29"]
    assert (dec.exchange, dec.lot_size, dec.has_future) == ("NFO", 65, True)
    assert series["2026-12-01"].has_future is False
    calls = master.contracts("nifty", expiry="2026-12-29", kind="CE")
    assert [c.strike_paise for c in calls] == sorted(c.strike_paise or 0 for c in calls)
    assert {c.strike_paise for c in calls} <= set(dec.strikes) and len(calls) == 21
    assert all(c.lot_size == 30 for c in master.contracts("BANKNIFTY"))
    assert master.contracts("UNKNOWN") == []


def test_lean_parsed_instruments_equal_validated_ones_and_copies_stay_independent() -> None:
    from mantra.domain import Instrument

    # Given both samples parsed (built without pydantic's validation, sharing one fields-set)
    parsed = [*load_dump(BUNDLED_KITE).instruments, *load_dump(BUNDLED_ANGEL).instruments]
    # Then each is exactly what validating its fields gives, types included
    for inst in parsed:
        assert Instrument.model_validate(inst.model_dump()) == inst
        assert isinstance(inst.lot_size, int) and isinstance(inst.tick_size_paise, int)
    # And a copy with an update changes only the copy
    first, second = parsed[0], parsed[1]
    copy = first.model_copy(update={"isin": "INE002A01018"})
    assert (copy.isin, first.isin, second.isin) == ("INE002A01018", None, None)


def test_the_configured_source_may_name_both_brokers_dumps_primary_first() -> None:
    from mantra.market.instrument_master import load_dumps

    # Given instrument_source naming Angel's dump then Kite's, as the function reads it
    dumps = load_dumps(f"{BUNDLED_ANGEL}, {BUNDLED_KITE}")
    assert [d.fmt for d in dumps] == ["angel", "kite"] and load_dumps("")[0].fmt == "angel"
    # When refreshed into an empty store
    store = Master()
    report = refresh(store, dumps)
    # Then every instrument holds both brokers' tokens, Angel's as the primary, and the samples agree
    assert report.format == "angel+kite" and report.conflicts == 0 and report.bad_rows == 0
    assert all(set(i.broker_tokens) == {"angel", "kite", "kite_exchange"} for i in store.items.values())
    assert store.items["RELIANCE"].token == "2885"
