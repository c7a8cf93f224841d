"""The feed's subscription: the defaults (the demo instruments), the live option chains (see ``chain_plan``), what
users watch (active alerts and watchlists) and what scheduled scanners scan, resolved through the instrument master
to instruments carrying every broker's own token, capped to what the brokers allow.

When the total exceeds the capacity, this priority order decides what is left out (and the cut is logged):
1. the defaults;
2. the option underlyings' spots and the futures of the chosen expiries (the chains are priced from them);
3. watched symbols (alerts, watchlists), NSE before NFO, BSE, BFO, then by symbol;
4. scanned symbols, in the same order;
5. options: the nearest expiry first, then by distance from the ATM strike (ATM first), then the underlyings in
   the configured order (indices), F&O stocks users watch after them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from mantra.domain import Instrument
from mantra.feed.chain_plan import ChainPlanner, ChainSelection, spot_symbol
from mantra.market.instruments import RESOLVE_ORDER

log = logging.getLogger(__name__)

T = TypeVar("T")
_EXCHANGE_RANK = {e: n for n, e in enumerate(RESOLVE_ORDER)}
PRIORITIES = ("defaults", "chain spots and futures", "watched", "scanned", "options")


class SubscriptionSource(Protocol):
    def watched_symbols(self) -> set[str]:
        """Instrument references users watch (alerts, watchlists): bare symbols or ``BSE:SYMBOL`` keys."""
        ...

    def scanned_symbols(self) -> set[str]: ...


@dataclass(frozen=True)
class Cut:
    """What the capacity left out, per priority class (empty when everything fit)."""

    capacity: int
    wanted: int
    left_out: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Chains:
    """The live option chains the subscription includes: the planner (settings and band centres), the master's
    derivatives of an underlying, and the latest price the feed has seen of a symbol (paise)."""

    planner: ChainPlanner
    contracts: Callable[[str], Sequence[Instrument]]
    price: Callable[[str], int | None]
    now_ms: Callable[[], int]


class Subscription:
    """Builds the instrument list (see the module doc for the order). Symbols the instrument master does not
    know are logged once and left out; a default it does not know (a simulated contract) is kept as given."""

    def __init__(
        self,
        source: SubscriptionSource | None,
        resolve: Callable[[str], Instrument | None],
        defaults: Sequence[Instrument],
        capacity: int,
        chains: Chains | None = None,
    ) -> None:
        self._source, self._resolve, self._defaults, self._capacity = source, resolve, defaults, capacity
        self._chains = chains
        self._unknown: set[str] = set()
        self.selections: list[ChainSelection] = []
        self.cut = Cut(capacity, 0)

    def load(self) -> list[Instrument]:
        watched: set[str] = set()
        scanned: set[str] = set()
        if self._source is not None:
            watched = self._source.watched_symbols()
            scanned = self._source.scanned_symbols()
        # the defaults as the instrument master has them: with every broker's own token (the bundled demo
        # list carries Angel's only; Kite must never be sent Angel's number)
        classes: list[list[Instrument]] = [[self._resolve(i.symbol) or i for i in self._defaults]]
        watched_insts = self._known(sorted(watched))
        self.selections = self._plan_chains(watched_insts)
        classes.append(
            [s.spot for s in self.selections if s.spot is not None]
            + [f for s in self.selections for f in s.futures]
        )
        classes.append(watched_insts)
        classes.append(self._known(sorted(scanned)))
        order = {s.underlying: n for n, s in enumerate(self.selections)}
        options = [(r, d, order[s.underlying], c) for s in self.selections for r, d, c in s.options]
        options.sort(key=lambda x: (x[0], x[1], x[2], x[3].strike_paise or 0, x[3].instrument_type))
        classes.append([c for *_, c in options])
        return self._cap(classes)

    def _known(self, refs: Iterable[str]) -> list[Instrument]:
        out = []
        for ref in refs:
            inst = self._resolve(ref)
            if inst is None:
                if ref not in self._unknown:
                    log.warning("no instrument %r in the instrument master; not subscribed", ref)
                    self._unknown.add(ref)
                continue
            out.append(inst)
        # NSE before BSE: where both list a symbol, NSE's is the one streamed (see _cap)
        return sorted(out, key=lambda i: (_EXCHANGE_RANK.get(i.exchange, 9), i.symbol))

    def _plan_chains(self, watched: Sequence[Instrument]) -> list[ChainSelection]:
        if self._chains is None:
            return []
        ch = self._chains
        names = list(ch.planner.settings.underlyings)
        # F&O stocks users watch: an equity with derivatives in the master
        for inst in watched:
            if inst.instrument_type == "EQ" and inst.symbol not in names and ch.contracts(inst.symbol):
                names.append(inst.symbol)
        now = ch.now_ms()
        out = []
        for name in names:
            contracts = ch.contracts(name)
            if not contracts:
                if name not in self._unknown:
                    log.warning(
                        "option chain %s: no contracts in the instrument master; not subscribed", name
                    )
                    self._unknown.add(name)
                continue
            sel = ch.planner.select(name, contracts, self._resolve(spot_symbol(name)), ch.price, now)
            if sel.note:
                log.info("option chain %s: %s", name, sel.note)
            out.append(sel)
        return out

    def _cap(self, classes: list[list[Instrument]]) -> list[Instrument]:
        """Dedupe in priority order and cut at the capacity. Two instruments with one bare symbol (NSE and BSE
        RELIANCE) are not streamed together: ticks and quotes are keyed by the bare symbol downstream."""
        out: dict[str, Instrument] = {}
        left: dict[str, list[str]] = {}
        wanted = 0
        for name, insts in zip(PRIORITIES, classes, strict=True):
            for inst in insts:
                if inst.symbol in out:
                    if out[inst.symbol].exchange != inst.exchange and inst.symbol not in self._unknown:
                        log.warning(
                            "%s:%s left out: %s:%s has the same symbol and ticks are keyed by symbol",
                            inst.exchange, inst.symbol, out[inst.symbol].exchange, inst.symbol,
                        )  # fmt: skip
                        self._unknown.add(inst.symbol)
                    continue
                wanted += 1
                if len(out) < self._capacity:
                    out[inst.symbol] = inst
                else:
                    left.setdefault(name, []).append(inst.symbol)
        self.cut = Cut(self._capacity, wanted, {k: tuple(v) for k, v in left.items()})
        if left:
            log.error(
                "subscription of %d instruments exceeds the brokers' capacity %d; left out: %s",
                wanted,
                self._capacity,
                "; ".join(f"{k} {len(v)} (e.g. {', '.join(v[:3])})" for k, v in left.items()),
            )
        return list(out.values())


def shard(items: Iterable[T], per_connection: int, max_connections: int) -> list[list[T]]:
    """Split into connections of at most ``per_connection`` items; raises when even ``max_connections`` full
    connections cannot hold them (the caller caps the subscription to the capacity first)."""
    items = list(items)
    if per_connection <= 0:
        raise ValueError("per_connection must be positive")
    shards = [items[i : i + per_connection] for i in range(0, len(items), per_connection)]
    if len(shards) > max_connections:
        raise ValueError(
            f"{len(items)} instruments need {len(shards)} connections; the broker allows {max_connections}"
        )
    return shards
