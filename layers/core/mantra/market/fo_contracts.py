"""F&O contract specifications from the exchange's own F&O bhavcopy: lot sizes, expiries and strikes as data.

Loading a UDiFF F&O report stores, per trading day, one compact record per contract (instrument type,
underlying, expiry, strike, option type, lot size, settlement price in paise, open interest) and a summary of
the day (which underlyings have stock futures, which are indices). ``FoLookup`` answers "what is the lot size,
and which expiries and strikes does X have, as of date D" from the latest stored report on or before D: lot
sizes are revised by the exchange (NIFTY went from 50 to 25 to 75), so a figure typed by hand goes stale.
A date no stored report covers is refused (``Invalid``, a 4xx) naming the underlying and the date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from mantra.errors import Invalid
from mantra.market.nse.types import FoBar

STOCK_FUTURE = "STF"
INDEX_INSTRUMENTS = frozenset({"IDF", "IDO"})


@dataclass(frozen=True, slots=True)
class FoContract:
    """One contract as the day's report specified it (the compact stored record)."""

    instrument: str  # STF / IDF / STO / IDO
    underlying: str
    expiry: date
    strike_paise: int | None  # None for futures
    option_type: str | None  # "CE" / "PE", None for futures
    lot_size: int
    settlement_paise: int
    open_interest: int  # shares
    # the session's prices and activity (past chains, OI change and build-up); None in rows stored before
    # these were kept
    close_paise: int | None = None
    prev_close_paise: int | None = None
    underlying_paise: int | None = None
    volume: int | None = None  # contracts traded
    change_in_oi: int | None = None  # shares, as the exchange reports it
    name: str | None = None  # FinInstrmNm, the exchange's contract name (NIFTY25FEB23500CE)

    @property
    def is_future(self) -> bool:
        return self.option_type is None

    @property
    def traded(self) -> bool:
        return bool(self.volume)


@dataclass(frozen=True)
class FoSession:
    """What one day's F&O report held, in brief."""

    session: date
    stock_futures: frozenset[str]  # underlyings with stock futures: the ``fno`` universe
    indices: frozenset[str]  # index underlyings (NIFTY, BANKNIFTY, ...)
    contracts: int
    source: str  # the report's file name


@dataclass(frozen=True)
class OiSummary:
    """One session's open interest per underlying, in shares: (futures, calls, puts), all expiries summed."""

    session: date
    by_underlying: dict[str, tuple[int, ...]]

    def futures(self, underlying: str) -> int | None:
        row = self.by_underlying.get(underlying)
        return None if row is None else int(row[0])


def oi_summary(contracts: Iterable[FoContract]) -> dict[str, tuple[int, int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for c in contracts:
        totals[c.underlying][0 if c.is_future else 1 if c.option_type == "CE" else 2] += c.open_interest
    return {k: (v[0], v[1], v[2]) for k, v in totals.items()}


class FoStore(Protocol):
    """Stored F&O reports (``store.fo_repository``)."""

    def put_session(self, session: FoSession, contracts: Sequence[FoContract], now_ms: int) -> None:
        """Store a day's contracts, then its summary (readers never see a summary without contracts)."""
        ...

    def latest_session(self, on_or_before: date | None = None) -> FoSession | None: ...

    def sessions(self, on_or_before: date, limit: int) -> list[date]:
        """The stored sessions on or before a date, newest first, at most ``limit``."""
        ...

    def contracts(self, session: date, underlying: str) -> list[FoContract]: ...

    def open_interest(self, sessions: int, on_or_before: date | None = None) -> list[OiSummary]:
        """The newest ``sessions`` stored sessions' open interest per underlying, oldest first."""
        ...


def contract_of(bar: FoBar) -> FoContract:
    return FoContract(
        instrument=bar.instrument,
        underlying=bar.symbol,
        expiry=bar.expiry,
        strike_paise=bar.strike_paise,
        option_type=bar.option_type,
        lot_size=bar.lot_size,
        settlement_paise=bar.settlement_paise,
        open_interest=bar.open_interest,
        close_paise=bar.close_paise,
        prev_close_paise=bar.prev_close_paise,
        underlying_paise=bar.underlying_paise,
        volume=bar.volume,
        change_in_oi=bar.change_in_oi,
        name=bar.name,
    )


def sessions_of(rows: Iterable[FoBar], source: str) -> list[tuple[FoSession, list[FoContract]]]:
    """A report's rows split by trading day (a file holds one day; nothing here assumes it)."""
    by_day: dict[date, list[FoContract]] = defaultdict(list)
    for bar in rows:
        by_day[bar.trade_date].append(contract_of(bar))
    out = []
    for day in sorted(by_day):
        contracts = by_day[day]
        summary = FoSession(
            session=day,
            stock_futures=frozenset(c.underlying for c in contracts if c.instrument == STOCK_FUTURE),
            indices=frozenset(c.underlying for c in contracts if c.instrument in INDEX_INSTRUMENTS),
            contracts=len(contracts),
            source=source,
        )
        out.append((summary, contracts))
    return out


@dataclass(frozen=True)
class ExpirySpec:
    expiry: date
    lot_size: int
    has_future: bool
    strikes_paise: tuple[int, ...]  # every strike listed for this expiry (calls or puts), ascending


@dataclass(frozen=True)
class ContractSpecs:
    """An underlying's contracts as of a date, from the report of ``session`` (on or before it)."""

    underlying: str
    as_of: date
    session: date
    source: str
    lot_size: int  # the nearest expiry's (on or after ``as_of`` when there is one)
    expiries: tuple[ExpirySpec, ...]

    @property
    def strike_step_paise(self) -> int | None:
        """The smallest gap between listed strikes of the nearest expiry (None without options)."""
        for e in self.expiries:
            gaps = [b - a for a, b in zip(e.strikes_paise, e.strikes_paise[1:], strict=False) if b > a]
            if gaps:
                return min(gaps)
        return None


def specs_from(
    underlying: str, as_of: date, session: FoSession, contracts: Sequence[FoContract]
) -> ContractSpecs:
    by_expiry: dict[date, list[FoContract]] = defaultdict(list)
    for c in contracts:
        by_expiry[c.expiry].append(c)
    expiries = []
    for expiry in sorted(by_expiry):
        cs = by_expiry[expiry]
        futures = [c for c in cs if c.is_future]
        # the future's lot where there is one; otherwise the lot most of the options carry
        lots = [c.lot_size for c in futures] or [c.lot_size for c in cs]
        lot = max(set(lots), key=lambda x: (lots.count(x), x))
        strikes = tuple(sorted({c.strike_paise for c in cs if c.strike_paise is not None}))
        expiries.append(ExpirySpec(expiry, lot, bool(futures), strikes))
    live = [e for e in expiries if e.expiry >= as_of] or expiries
    return ContractSpecs(
        underlying, as_of, session.session, session.source, live[0].lot_size, tuple(expiries)
    )


class FoLookup:
    """Lot sizes, expiries and strikes of an underlying as of a date, from the stored F&O reports."""

    def __init__(self, store: FoStore) -> None:
        self._store = store

    def specs(self, underlying: str, as_of: date) -> ContractSpecs:
        name = underlying.strip().upper()
        if not name:
            raise Invalid("underlying: give a symbol, e.g. NIFTY or RELIANCE")
        session = self._store.latest_session(as_of)
        if session is None:
            raise Invalid(
                f"{name}: no F&O report is stored for {as_of.isoformat()} or before it, so its lot size "
                "and expiries are not known; load the exchange's F&O bhavcopy (mantra history load)"
            )
        contracts = self._store.contracts(session.session, name)
        if not contracts:
            raise Invalid(
                f"{name}: not an F&O underlying in the exchange's report of {session.session.isoformat()} "
                f"(the latest stored on or before {as_of.isoformat()}), so it has no lot size then"
            )
        return specs_from(name, as_of, session, contracts)

    def lot_size(self, underlying: str, as_of: date) -> int:
        return self.specs(underlying, as_of).lot_size
