"""The instrument master: both broker dump formats normalise to the same instruments; refresh and search."""

from __future__ import annotations

import pytest
from mantra.domain import Instrument
from mantra.market.instrument_master import (
    BUNDLED_KITE,
    DumpError,
    InstrumentCatalog,
    InstrumentQuery,
    contract_symbol,
    load_dump,
    parse_angel,
    parse_dump,
    refresh,
)
from mantra.market.instruments import demo_instruments
from market_fakes import Master


@pytest.fixture(scope="module")
def angel() -> list[Instrument]:
    return load_dump("").instruments  # the default: the bundled Angel One sample


def test_the_angel_and_kite_samples_give_the_same_master_but_their_own_tokens(
    angel: list[Instrument],
) -> None:
    kite = {i.symbol: i for i in load_dump(BUNDLED_KITE).instruments}
    assert {i.symbol for i in angel} == set(kite)
    for i in angel:
        k = kite[i.symbol]
        own = {"token", "name", "broker_tokens"}
        assert i.model_dump(exclude=own) == k.model_dump(exclude=own)
        # Angel's token is the exchange's own number, which Kite lists as exchange_token (indices aside:
        # Angel numbers them 999xxxxx)
        assert i.broker_tokens == {"angel": i.token}
        assert (k.broker_tokens["kite_exchange"] == i.token) is (i.instrument_type != "INDEX")
        assert k.broker_tokens["kite"] == k.token != i.token


def test_demo_equities_and_indices_keep_their_symbols_and_tokens(angel: list[Instrument]) -> None:
    by_symbol = {i.symbol: i for i in angel}
    for demo, _ in demo_instruments():
        got = by_symbol[demo.symbol]
        assert (got.token, got.exchange, got.instrument_type, got.tick_size_paise) == (
            demo.token,
            demo.exchange,
            demo.instrument_type,
            demo.tick_size_paise,
        )
    assert by_symbol["NIFTY FIN SERVICE"].instrument_type == "INDEX"


def test_options_and_futures_carry_underlying_expiry_strike_and_exchange_symbols(
    angel: list[Instrument],
) -> None:
    by_symbol = {i.symbol: i for i in angel}
    monthly = by_symbol["NIFTY26DEC24000CE"]
    assert (monthly.underlying, monthly.expiry, monthly.strike_paise, monthly.lot_size) == (
        "NIFTY",
        "2026-12-29",
        2_400_000,
        65,
    )
    weekly = by_symbol["NIFTY26D0124000PE"]  # weekly: year, month as 1-9/O/N/D, day
    assert (weekly.expiry, weekly.instrument_type, weekly.exchange, weekly.tick_size_paise) == (
        "2026-12-01",
        "PE",
        "NFO",
        5,
    )
    fut = by_symbol["BANKNIFTY27JANFUT"]
    assert (fut.instrument_type, fut.expiry, fut.strike_paise) == ("FUT", "2027-01-25", None)
    types = {i.instrument_type for i in angel}
    assert types == {"EQ", "INDEX", "FUT", "CE", "PE"} and len(angel) >= 200


def test_contract_symbols_follow_the_exchange_convention() -> None:
    from datetime import date

    assert contract_symbol("NIFTY", date(2026, 10, 6), "CE", 2_405_000, False) == "NIFTY26O0624050CE"
    assert contract_symbol("RELIANCE", date(2026, 12, 29), "PE", 128_250, True) == "RELIANCE26DEC1282.5PE"


def test_rows_we_do_not_carry_are_counted_by_reason_not_silently_dropped() -> None:
    rows = [
        {"token": "1", "symbol": "GOLD", "name": "GOLD", "expiry": "", "strike": "-1", "lotsize": "1",
         "instrumenttype": "FUTCOM", "exch_seg": "MCX", "tick_size": "100"},
        {"token": "2", "symbol": "ABC-BE", "name": "ABC", "expiry": "", "strike": "-1", "lotsize": "1",
         "instrumenttype": "", "exch_seg": "NSE", "tick_size": "5"},
    ]  # fmt: skip
    dump = parse_angel(rows)
    assert dump.instruments == [] and dict(dump.skipped) == {"segment MCX": 1, "cash series BE": 1}


def test_an_unknown_dump_says_what_it_expected() -> None:
    with pytest.raises(DumpError, match="neither an Angel scrip master"):
        parse_dump("symbol,price\nX,1\n")


def test_refresh_upserts_changes_keeps_isin_and_removes_nothing(angel: list[Instrument]) -> None:
    # Given a master holding the demo set (with ISINs) and a contract the new dump no longer lists
    gone = Instrument(symbol="NIFTY26NOVFUT", token="9", exchange="NFO", name="NIFTY", instrument_type="FUT")
    store = Master([*(i for i, _ in demo_instruments()), gone])
    # When the Angel sample is loaded
    report = refresh(store, load_dump(""))
    # Then everything in the dump is there, ISINs survive, and nothing was removed
    assert report.loaded == len(angel) and report.not_in_dump == 1 and "NIFTY26NOVFUT" in store.items
    assert store.items["RELIANCE"].isin == "INE002A01018"
    assert report.added == len(angel) - 12 and report.by_type["CE"] == report.by_type["PE"]
    # And a second load writes nothing
    again = refresh(store, load_dump(""))
    assert (again.written, again.unchanged) == (0, len(angel))


def _catalog(angel: list[Instrument], index: bool = True) -> tuple[InstrumentCatalog, Master, list[float]]:
    clock = [0.0]
    master = Master(angel, index=index)
    return InstrumentCatalog(master, ttl_s=60, now=lambda: clock[0]), master, clock


def test_text_search_reads_the_table_once_per_ttl_not_per_request(angel: list[Instrument]) -> None:
    catalog, master, clock = _catalog(angel)
    for _ in range(50):
        assert [i.symbol for i in catalog.search(InstrumentQuery("RELI"))] == ["RELIANCE"]
    assert master.scans == 1
    clock[0] = 61
    catalog.search(InstrumentQuery("TCS"))
    assert master.scans == 2


def test_search_filters_by_type_exchange_underlying_and_expiry(angel: list[Instrument]) -> None:
    catalog, master, _ = _catalog(angel)
    chain = catalog.search(
        InstrumentQuery(underlying="nifty", expiry="2026-12-29", instrument_type="CE", limit=500)
    )
    assert len(chain) == 21 and {i.expiry for i in chain} == {"2026-12-29"}
    assert [i.strike_paise for i in chain] == sorted(i.strike_paise or 0 for i in chain)
    assert master.index_reads == 1 and master.scans == 0  # a chain is an index query, not a scan
    nifty = catalog.search(InstrumentQuery("NIFTY", limit=3))
    assert [i.symbol for i in nifty][:1] == ["NIFTY 50"]  # the index ranks first
    futs = catalog.search(InstrumentQuery(exchange="NFO", instrument_type="FUT", limit=500))
    assert {i.symbol for i in futs} == {
        "NIFTY26DECFUT", "NIFTY27JANFUT", "BANKNIFTY26DECFUT", "BANKNIFTY27JANFUT", "FINNIFTY26DECFUT"
    }  # fmt: skip


def test_without_the_index_a_chain_comes_from_the_snapshot(angel: list[Instrument]) -> None:
    catalog, master, _ = _catalog(angel, index=False)
    assert len(catalog.search(InstrumentQuery(underlying="BANKNIFTY", limit=500))) == 102
    assert master.scans == 1
