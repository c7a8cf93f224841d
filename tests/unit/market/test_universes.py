"""Universes as data: every index of the exchange's constituents file, by name, and nothing guessed."""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from mantra.errors import Invalid
from mantra.market.universes import catalog, universe
from nse_files import nse_data_dir


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
