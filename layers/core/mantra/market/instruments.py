"""Instrument master: exchange-qualified keys, the merged in-memory master, and the bundled demo set.

Every instrument is keyed by exchange and symbol, ``NSE:RELIANCE``, ``BSE:RELIANCE``, ``NSE:NIFTY 50``,
``NFO:NIFTY26DEC24000CE``: the same symbol on two exchanges is two instruments. A bare symbol (what ticks,
quotes and alerts carry) resolves to the first of NSE, NFO, BSE, BFO that lists it, so ``RELIANCE`` is still
the NSE equity.

The table stores NSE and NFO rows under the bare symbol and BSE/BFO rows under ``BSE:``/``BFO:`` keys
(``storage_key``): rows written before keys were qualified are all NSE/NFO, so they stay valid as they are.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from mantra.domain import Instrument
from mantra.money import to_paise

# the order a bare symbol is resolved in: cash and index first, then contracts; NSE before BSE
RESOLVE_ORDER = ("NSE", "NFO", "BSE", "BFO")
BARE_EXCHANGES = frozenset({"NSE", "NFO"})  # stored under the bare symbol (see the module doc)
# fields two brokers must agree on for one instrument; a disagreement is reported, never silently resolved
COMPARED_FIELDS = ("instrument_type", "lot_size", "tick_size_paise", "expiry", "strike_paise")


_ALL_FIELDS = set(Instrument.model_fields)


def make_instrument(
    *,
    symbol: str,
    token: str,
    exchange: str,
    name: str,
    instrument_type: str,
    lot_size: int = 1,
    tick_size_paise: int = 5,
    underlying: str | None = None,
    expiry: str | None = None,
    strike_paise: int | None = None,
    broker_tokens: dict[str, str] | None = None,
) -> Instrument:
    """An ``Instrument`` from fields a parser has already checked, built lean for a 150,000-row dump.

    Skips pydantic's validation (the parser did it, with row-level errors) and shares one fields-set and the
    repeated strings (exchange, type, underlying, expiry) across instances: ~1.7 KB -> ~0.9 KB each.
    """
    # sys.intern: one copy of each repeated string; interned strings are freed with their last reference
    return Instrument.model_construct(
        _fields_set=_ALL_FIELDS,  # every field is given, so one set serves every instance
        symbol=symbol, token=token, exchange=sys.intern(exchange), name=sys.intern(name),
        instrument_type=sys.intern(instrument_type), lot_size=lot_size, tick_size_paise=tick_size_paise,
        isin=None, underlying=None if underlying is None else sys.intern(underlying),
        expiry=None if expiry is None else sys.intern(expiry), strike_paise=strike_paise,
        broker_tokens=broker_tokens or {},
    )  # fmt: skip


def instrument_key(inst: Instrument) -> str:
    return f"{inst.exchange}:{inst.symbol}"


def split_key(ref: str) -> tuple[str | None, str]:
    """``"BSE:RELIANCE"`` -> ("BSE", "RELIANCE"); a bare ``"RELIANCE"`` -> (None, "RELIANCE")."""
    exchange, sep, symbol = ref.partition(":")
    if sep and exchange.strip().upper() in RESOLVE_ORDER:
        return exchange.strip().upper(), symbol.strip()
    return None, ref.strip()


def storage_key(inst: Instrument) -> str:
    return inst.symbol if inst.exchange in BARE_EXCHANGES else instrument_key(inst)


def storage_candidates(ref: str) -> list[str]:
    """The table keys a reference may be stored under, in resolution order."""
    exchange, symbol = split_key(ref)
    if exchange is not None:
        return [symbol if exchange in BARE_EXCHANGES else f"{exchange}:{symbol}"]
    return [symbol, *(f"{e}:{symbol}" for e in RESOLVE_ORDER if e not in BARE_EXCHANGES)]


@dataclass(frozen=True)
class Conflict:
    """Two brokers' dumps disagree on one field of one instrument; the first source's value is kept."""

    key: str
    field: str
    values: dict[str, str]  # broker -> its value, as text

    def describe(self) -> str:
        said = ", ".join(f"{b} says {v}" for b, v in self.values.items())
        return f"{self.key}: {self.field} differs ({said})"


@dataclass(frozen=True)
class ExpirySeries:
    """One underlying's contracts of one expiry on one exchange: what an option strategy needs to size legs."""

    underlying: str
    exchange: str
    expiry: str
    lot_size: int
    strikes: tuple[int, ...]  # paise, ascending
    has_future: bool


class AmbiguousToken(LookupError):
    """A broker token that several exchanges use (Angel numbers each segment on its own)."""


class InstrumentMaster:
    """Every instrument of one or more brokers' dumps, merged by exchange-qualified key.

    ``add`` merges a broker's row into the instrument another broker already listed: tokens are unioned and any
    disagreement on ``COMPARED_FIELDS`` is recorded in ``conflicts`` (the first source's value stays).
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Instrument] = {}
        self._by_token: dict[tuple[str, str], str | tuple[str, ...]] = {}
        self._by_underlying: dict[str, list[str]] = {}
        self.conflicts: list[Conflict] = []

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_key.values())

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and self.get(ref) is not None

    def add(self, inst: Instrument, broker: str) -> bool:
        """Merge one broker's instrument. False when this broker already listed the key (a duplicate row)."""
        key = instrument_key(inst)
        old = self._by_key.get(key)
        if old is None:
            self._by_key[key] = inst
            self._index(key, inst, inst.broker_tokens)
            return True
        if broker in old.broker_tokens:
            return False
        for name in COMPARED_FIELDS:
            mine, theirs = getattr(old, name), getattr(inst, name)
            if mine != theirs:
                first = next(iter(old.broker_tokens), "first")
                self.conflicts.append(Conflict(key, name, {first: str(mine), broker: str(theirs)}))
        new_tokens = {b: t for b, t in inst.broker_tokens.items() if b not in old.broker_tokens}
        merged = old.model_copy(update={"broker_tokens": {**old.broker_tokens, **new_tokens}})
        self._by_key[key] = merged
        self._index(key, None, new_tokens)
        return True

    def _index(self, key: str, new: Instrument | None, tokens: dict[str, str]) -> None:
        for broker, token in tokens.items():
            # Kite's tokens are global, Angel's per segment: most tokens name one key; a shared one names several
            got = self._by_token.setdefault((broker, token), key)
            if got is not key:
                self._by_token[(broker, token)] = (*((got,) if isinstance(got, str) else got), key)
        if new is not None and new.underlying:
            self._by_underlying.setdefault(new.underlying, []).append(key)

    # ------------------------------------------------------------------------------------------- lookups
    def get(self, ref: str) -> Instrument | None:
        """By key (``BSE:RELIANCE``) or bare symbol (``RELIANCE``: NSE first, see ``RESOLVE_ORDER``)."""
        exchange, symbol = split_key(ref)
        if exchange is not None:
            return self._by_key.get(f"{exchange}:{symbol}")
        for e in RESOLVE_ORDER:
            hit = self._by_key.get(f"{e}:{symbol}")
            if hit is not None:
                return hit
        return None

    def by_token(self, broker: str, token: str, exchange: str | None = None) -> Instrument | None:
        """The instrument a broker's token names. Angel reuses numbers across segments: pass the exchange."""
        got = self._by_token.get((broker, token.strip()), ())
        keys = (got,) if isinstance(got, str) else got
        if exchange is not None:
            keys = tuple(k for k in keys if k.startswith(exchange.upper() + ":"))
        if len(keys) > 1:
            raise AmbiguousToken(
                f"{broker} token {token} is used on {', '.join(k.partition(':')[0] for k in keys)}: "
                "name the exchange"
            )
        return self._by_key[keys[0]] if keys else None

    def contracts(
        self,
        underlying: str,
        expiry: str | None = None,
        kind: str | None = None,
        exchange: str | None = None,
    ) -> list[Instrument]:
        """Derivatives of an underlying, by expiry, then strike, then type (FUT, CE, PE)."""
        rows = [self._by_key[k] for k in self._by_underlying.get(underlying.strip().upper(), [])]
        out = [
            i
            for i in rows
            if (expiry is None or i.expiry == expiry)
            and (kind is None or i.instrument_type == kind.upper())
            and (exchange is None or i.exchange == exchange.upper())
        ]
        out.sort(key=lambda i: (i.expiry or "", i.strike_paise or 0, i.instrument_type, i.exchange))
        return out

    def expiries(self, underlying: str, exchange: str | None = None) -> list[str]:
        return sorted({i.expiry for i in self.contracts(underlying, exchange=exchange) if i.expiry})

    def series(self, underlying: str, exchange: str | None = None) -> list[ExpirySeries]:
        """Per expiry: lot size, the strikes listed (both calls and puts counted once), whether a future is."""
        groups: dict[tuple[str, str], list[Instrument]] = {}
        for i in self.contracts(underlying, exchange=exchange):
            groups.setdefault((i.exchange, i.expiry or ""), []).append(i)
        out = []
        for (exch, expiry), rows in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            lots = {i.lot_size for i in rows}
            # one lot size per expiry is the exchange's rule; if the dump breaks it, say so rather than pick one
            if len(lots) > 1:
                raise ValueError(f"{exch} {underlying} {expiry}: contracts list lot sizes {sorted(lots)}")
            strikes = sorted({i.strike_paise for i in rows if i.strike_paise is not None})
            out.append(
                ExpirySeries(
                    underlying=underlying.upper(),
                    exchange=exch,
                    expiry=expiry,
                    lot_size=lots.pop(),
                    strikes=tuple(strikes),
                    has_future=any(i.instrument_type == "FUT" for i in rows),
                )
            )
        return out


def build_master(groups: Iterable[tuple[str, Iterable[Instrument]]]) -> InstrumentMaster:
    """A master from (broker, instruments) groups, the first group's values kept where brokers disagree."""
    master = InstrumentMaster()
    for broker, instruments in groups:
        for inst in instruments:
            master.add(inst, broker)
    return master


def demo_instruments() -> list[tuple[Instrument, int]]:
    """Instruments with the base price the simulated market starts from."""
    raw = json.loads(resources.files("mantra.data").joinpath("instruments_demo.json").read_text())
    out = []
    for row in raw:
        base = to_paise(row.pop("base_price"))
        out.append((Instrument(**row), base))
    return out
