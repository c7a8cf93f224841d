"""Universes as data: the exchange's index membership file, the demo set, or symbols named by the caller.

``data/index_constituents.csv`` is NSE's own constituents download (``INDICES, SYMBOL, CATEGORY, ...``): each index
in it is a universe, addressed by its name without spaces, in any case (``nifty50``, ``niftybank``, ``NIFTY IT``).
``demo`` is the simulated feed's equities. Anything else is read as symbols separated by commas; a name that is
neither gets a 4xx listing the universes there are (never a guess at the nearest one).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from mantra.errors import Invalid
from mantra.market.instruments import demo_instruments

BENCHMARK = "NIFTY 50"


@dataclass(frozen=True)
class Universe:
    name: str
    symbols: tuple[str, ...]
    benchmark: str | None = BENCHMARK
    title: str = ""  # e.g. "NIFTY BANK"
    category: str = ""  # the exchange's: "Broad Market", "Sectoral", ...; "demo" for the demo set


def _key(name: str) -> str:
    return "".join(name.split()).lower()


@lru_cache
def catalog() -> dict[str, Universe]:
    """Every named universe by key, in the file's order, then ``demo``."""
    text = resources.files("mantra.data").joinpath("index_constituents.csv").read_text()
    members: dict[str, list[str]] = {}
    category: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        index = row["INDICES"].strip()
        members.setdefault(index, []).append(row["SYMBOL"].strip().upper())
        category[index] = row["CATEGORY"].strip()
    out = {
        _key(index): Universe(_key(index), tuple(dict.fromkeys(syms)), BENCHMARK, index, category[index])
        for index, syms in members.items()
    }
    demo = tuple(i.symbol for i, _ in demo_instruments() if i.instrument_type == "EQ")
    out["demo"] = Universe("demo", demo, None, "Demo feed equities", "demo")
    return out


@lru_cache
def known_symbols() -> frozenset[str]:
    return frozenset(
        [i.symbol for i, _ in demo_instruments()] + [s for u in catalog().values() for s in u.symbols]
    )


def universe(spec: str) -> Universe:
    """A named universe (``nifty50``, ``niftybank``, ``demo`` ...) or symbols separated by commas."""
    key = spec.strip()
    names = ", ".join(catalog())
    if not key:
        raise Invalid(f"universe: give a name ({names}) or symbols separated by commas")
    if (found := catalog().get(_key(key))) is not None:
        return found
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in key.split(",") if s.strip()))
    unknown = [s for s in symbols if s not in known_symbols()]
    if unknown:
        from mantra.quant.scanner.checker import did_you_mean

        hint = did_you_mean(unknown[0], tuple(sorted(known_symbols())))
        what = (
            f"unknown universe or symbol {unknown[0]!r}"
            if len(symbols) == 1
            else f"unknown symbol {unknown[0]!r}"
        )
        raise Invalid(f"universe: {what}" + (f"; {hint}" if hint else "") + f". Universes: {names}")
    return Universe(",".join(symbols), symbols)
