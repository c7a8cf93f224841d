"""Universes as data: every index of the exchange's constituents file, the stored reports' fno and nse_eq, by
name, and nothing guessed."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from fo_fakes import MemoryEqHistory, MemoryFoStore, fo_files, raw_rows
from mantra.errors import Invalid
from mantra.market.eod import EodLoader
from mantra.market.universes import UniverseCatalog, catalog, known_symbols, universe
from nse_files import MemoryCandles, nse_data_dir


def _published() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with (nse_data_dir() / "index_constituents.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["INDICES"], []).append(row["SYMBOL"])
    return out


def test_the_bundled_file_is_the_exchanges_own() -> None:
    bundled = resources.files("mantra.data").joinpath("index_constituents.csv").read_bytes()
    assert bundled == (nse_data_dir() / "index_constituents.csv").read_bytes()


def test_every_published_index_is_a_universe_with_exactly_its_members() -> None:
    published = _published()
    assert len(published) >= 8
    for index, members in published.items():
        for spelling in (index, index.lower(), index.replace(" ", "").lower()):
            u = universe(spelling)
            assert u.title == index and list(u.symbols) == members
    assert len(universe("nifty50").symbols) == 50
    assert set(catalog()) == {i.replace(" ", "").lower() for i in published} | {"demo"}


def test_an_unknown_universe_is_refused_with_the_list_not_corrected() -> None:
    with pytest.raises(Invalid) as e:
        universe("nifty500")
    msg = str(e.value)
    assert "unknown universe or symbol 'NIFTY500'" in msg
    assert all(name in msg for name in ("nifty50", "niftybank", "niftyit", "demo"))


def test_symbols_separated_by_commas_and_a_typo_gets_a_hint() -> None:
    u = universe(" reliance, TCS ,reliance")
    assert u.symbols == ("RELIANCE", "TCS") and u.name == "RELIANCE,TCS"
    with pytest.raises(Invalid, match="did you mean 'RELIANCE'"):
        universe("RELIANCE,RELIANC")


def _stored() -> tuple[MemoryFoStore, MemoryEqHistory]:
    """The newest real F&O report and one real equity day, loaded as the platform loads them."""
    fo, eq = MemoryFoStore(), MemoryEqHistory()
    loader = EodLoader(MemoryCandles(), fo=fo, eq=eq)
    loader.load_file(fo_files()[-1])
    loader.load_file(sorted((nse_data_dir() / "equity").glob("sec_bhavdata_full_*.csv"))[0])
    return fo, eq


def test_fno_is_the_stock_future_underlyings_of_the_latest_stored_report_and_nse_eq_every_eq_symbol() -> None:
    fo, eq = _stored()
    cat = UniverseCatalog(fo, eq)
    fno = cat.universe("FNO")
    raw = raw_rows(fo_files()[-1])
    assert set(fno.symbols) == {r["TckrSymb"] for r in raw if r["FinInstrmTp"] == "STF"}
    assert "NIFTY" not in fno.symbols and "RELIANCE" in fno.symbols  # indices are not F&O stocks
    assert fno.as_of == fo.latest_session().session and fo_files()[-1].name in fno.source  # type: ignore[union-attr]
    nse_eq = cat.universe("nse_eq")
    assert set(nse_eq.symbols) == eq.symbols and nse_eq.as_of == max(eq.days)
    listed = {u.name: u for u in cat.all()}
    assert set(listed) == set(catalog()) | {"fno", "nse_eq"}
    assert listed["nifty50"].as_of is not None and listed["nifty50"].source and listed["nifty50"].description


def test_a_symbol_known_only_from_stored_history_may_be_listed() -> None:
    fo, eq = _stored()
    only_stored = sorted(eq.symbols - known_symbols())[0]
    with pytest.raises(Invalid):
        universe(only_stored)
    assert UniverseCatalog(fo, eq).universe(f"reliance,{only_stored.lower()}").symbols == (
        "RELIANCE",
        only_stored,
    )


def test_an_empty_stored_universe_is_refused_saying_what_to_load_and_an_unknown_one_lists_them_all() -> None:
    cat = UniverseCatalog(MemoryFoStore(), MemoryEqHistory())
    assert {u.name: len(u.symbols) for u in cat.all()}["fno"] == 0
    with pytest.raises(Invalid, match="no F&O report is stored"):
        cat.universe("fno")
    with pytest.raises(Invalid) as e:
        cat.universe("nifty500")
    assert all(name in str(e.value) for name in ("nifty50", "fno", "nse_eq", "demo"))
    with pytest.raises(Invalid, match="stored reports"):
        universe("fno")  # the bundled-only resolver does not pretend it is empty


def test_stored_universes_are_read_once_per_ttl() -> None:
    fo, eq = _stored()
    now = [0.0]
    cat = UniverseCatalog(fo, eq, ttl_s=60, now=lambda: now[0])
    before = fo.reads
    for _ in range(5):
        cat.universe("fno")
    assert fo.reads == before + 1
    now[0] = 61.0
    cat.universe("fno")
    assert fo.reads == before + 2
