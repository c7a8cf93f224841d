"""Universes as data: the exchange's index membership file, its stored reports, the demo set, or symbols named.

``data/index_constituents.csv`` is NSE's own constituents download (``INDICES, SYMBOL, CATEGORY, ...``): each index
in it is a universe, addressed by its name without spaces, in any case (``nifty50``, ``niftybank``, ``NIFTY IT``).
``demo`` is the simulated feed's equities. Two more are read from the stored reports through ``UniverseCatalog``:
``fno``, the underlyings with stock futures in the latest stored F&O report, and ``nse_eq``, every EQ-series
symbol with stored daily history. Anything else is read as symbols separated by commas; a name that is neither
gets a 4xx listing the universes there are (never a guess at the nearest one).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Protocol

from mantra.errors import Invalid
from mantra.market.fo_contracts import FoStore
from mantra.market.instruments import demo_instruments

BENCHMARK = "NIFTY 50"


@dataclass(frozen=True)
class Universe:
    name: str
    symbols: tuple[str, ...]
    benchmark: str | None = BENCHMARK
    title: str = ""  # e.g. "NIFTY BANK"
    category: str = ""  # the exchange's: "Broad Market", "Sectoral", ...; "demo" for the demo set
    description: str = ""
    source: str = ""  # where the members come from
    as_of: date | None = None  # the date of that source (None: not dated, or nothing stored yet)


FNO, NSE_EQ = "fno", "nse_eq"
STORED = (FNO, NSE_EQ)  # universes read from the stored reports, not from a bundled file
CONSTITUENTS = "NSE index constituents download (index_constituents.csv)"


def _key(name: str) -> str:
    return "".join(name.split()).lower()


@lru_cache
def catalog() -> dict[str, Universe]:
    """Every named universe by key, in the file's order, then ``demo``."""
    text = resources.files("mantra.data").joinpath("index_constituents.csv").read_text()
    members: dict[str, list[str]] = {}
    category: dict[str, str] = {}
    dated: dict[str, date] = {}
    for row in csv.DictReader(io.StringIO(text)):
        index = row["INDICES"].strip()
        members.setdefault(index, []).append(row["SYMBOL"].strip().upper())
        category[index] = row["CATEGORY"].strip()
        if (downloaded := (row.get("DOWNLOAD_DATE") or "").strip()) and index not in dated:
            dated[index] = datetime.strptime(downloaded, "%d-%m-%Y").date()
    out = {}
    for index, syms in members.items():
        unique = tuple(dict.fromkeys(syms))
        about = f"{index}: the exchange's {category[index].lower()} index, {len(unique)} members"
        out[_key(index)] = Universe(
            _key(index), unique, BENCHMARK, index, category[index], about, CONSTITUENTS, dated.get(index)
        )
    demo = tuple(i.symbol for i, _ in demo_instruments() if i.instrument_type == "EQ")
    out["demo"] = Universe(
        "demo", demo, None, "Demo feed equities", "demo", "The simulated feed's equities", "demo feed"
    )
    return out


@lru_cache
def known_symbols() -> frozenset[str]:
    return frozenset(
        [i.symbol for i, _ in demo_instruments()] + [s for u in catalog().values() for s in u.symbols]
    )


def universe_names() -> tuple[str, ...]:
    return (*catalog(), *STORED)


def universe(spec: str, known: frozenset[str] = frozenset()) -> Universe:
    """A named universe (``nifty50``, ``niftybank``, ``demo`` ...) or symbols separated by commas.

    ``fno`` and ``nse_eq`` live in the store: only ``UniverseCatalog.universe`` resolves them. ``known``: more
    symbols a list may name (those with stored history)."""
    key = spec.strip()
    names = ", ".join(universe_names())
    if not key:
        raise Invalid(f"universe: give a name ({names}) or symbols separated by commas")
    if (found := catalog().get(_key(key))) is not None:
        return found
    if _key(key) in STORED:
        raise Invalid(f"universe: {_key(key)} is read from the stored reports; ask the platform (API or CLI)")
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in key.split(",") if s.strip()))
    everything = known_symbols() | known
    unknown = [s for s in symbols if s not in everything]
    if unknown:
        from mantra.quant.scanner.checker import did_you_mean

        hint = did_you_mean(unknown[0], tuple(sorted(everything)))
        what = (
            f"unknown universe or symbol {unknown[0]!r}"
            if len(symbols) == 1
            else f"unknown symbol {unknown[0]!r}"
        )
        raise Invalid(f"universe: {what}" + (f"; {hint}" if hint else "") + f". Universes: {names}")
    return Universe(",".join(symbols), symbols)


class EqHistory(Protocol):
    """The EQ-series symbols with stored daily history and the newest session loaded
    (``store.fo_repository.DynamoEqHistory``)."""

    def eq_symbols(self) -> tuple[frozenset[str], date | None]: ...


class UniverseCatalog:
    """Every universe, the stored ones included. Reads of the store are kept ``ttl_s`` (a load shows up
    within a minute; a scheduled scan every minute does not read the tables every time)."""

    def __init__(
        self,
        fo: FoStore | None = None,
        eq: EqHistory | None = None,
        ttl_s: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fo, self._eq, self._ttl, self._now = fo, eq, ttl_s, now
        self._kept: dict[str, tuple[float, Universe]] = {}

    def _cached(self, name: str, build: Callable[[], Universe]) -> Universe:
        hit = self._kept.get(name)
        if hit is not None and self._now() - hit[0] < self._ttl:
            return hit[1]
        built = build()
        self._kept[name] = (self._now(), built)
        return built

    def fno(self) -> Universe:
        def build() -> Universe:
            session = self._fo.latest_session() if self._fo is not None else None
            if session is None:
                return Universe(FNO, (), BENCHMARK, "F&O stocks", "Derivatives", _FNO_ABOUT, _FNO_SOURCE)
            return Universe(
                FNO,
                tuple(sorted(session.stock_futures)),
                BENCHMARK,
                "F&O stocks",
                "Derivatives",
                _FNO_ABOUT,
                f"{_FNO_SOURCE}: {session.source}",
                session.session,
            )

        return self._cached(FNO, build)

    def nse_eq(self) -> Universe:
        def build() -> Universe:
            symbols, newest = self._eq.eq_symbols() if self._eq is not None else (frozenset(), None)
            return Universe(
                NSE_EQ, tuple(sorted(symbols)), BENCHMARK, "NSE EQ", "Equity", _EQ_ABOUT, _EQ_SOURCE, newest
            )

        return self._cached(NSE_EQ, build)

    def all(self) -> list[Universe]:
        return [*catalog().values(), self.fno(), self.nse_eq()]

    def universe(self, spec: str) -> Universe:
        """As ``universe``, with ``fno`` and ``nse_eq`` read from the store; an empty one is refused."""
        key = _key(spec)
        if key in STORED:
            found = self.fno() if key == FNO else self.nse_eq()
            if not found.symbols:
                raise Invalid(f"universe: {key} is empty: {_EMPTY[key]}")
            return found
        if "," in spec or catalog().get(key) is None:
            # a list may name any symbol with stored history, not only the bundled ones
            return universe(spec, frozenset(self.nse_eq().symbols) | frozenset(self.fno().symbols))
        return universe(spec)


_FNO_ABOUT = "F&O stocks: the underlyings with stock futures in the latest stored F&O report"
_FNO_SOURCE = "NSE F&O bhavcopy (UDiFF)"
_EQ_ABOUT = "Every NSE EQ-series symbol with stored daily history"
_EQ_SOURCE = "NSE capital-market bhavcopies loaded into the store"
_EMPTY = {
    FNO: "no F&O report is stored; load the exchange's F&O bhavcopy (mantra history load)",
    NSE_EQ: "no daily history is stored; load the exchange's bhavcopies (mantra history load)",
}
