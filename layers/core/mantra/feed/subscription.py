"""The feed's subscription: the union of what users watch (active alerts), scan (scheduled scanners' universes)
and a default set (the demo instruments and the index option chains), resolved to instruments and split into
shards that fit each broker's per-connection limit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from mantra.domain import Instrument

log = logging.getLogger(__name__)

T = TypeVar("T")


class SubscriptionSource(Protocol):
    def watched_symbols(self) -> set[str]: ...
    def scanned_symbols(self) -> set[str]: ...


class Subscription:
    """Builds the instrument list. The defaults always come first, so a cap never drops them; symbols the
    instrument master does not know are logged once and left out."""

    def __init__(
        self,
        source: SubscriptionSource | None,
        resolve: Callable[[str], Instrument | None],
        defaults: Sequence[Instrument],
        capacity: int,
    ) -> None:
        self._source, self._resolve, self._defaults, self._capacity = source, resolve, defaults, capacity
        self._unknown: set[str] = set()

    def load(self) -> list[Instrument]:
        wanted: set[str] = set()
        if self._source is not None:
            wanted |= self._source.watched_symbols()
            wanted |= self._source.scanned_symbols()
        # the defaults as the instrument master has them: with every broker's own token (the bundled demo
        # list carries Angel's only; Kite must never be sent Angel's number)
        out: dict[str, Instrument] = {i.symbol: self._resolve(i.symbol) or i for i in self._defaults}
        for symbol in sorted(wanted - out.keys()):
            inst = self._resolve(symbol)
            if inst is None:
                if symbol not in self._unknown:
                    log.warning("no instrument %r in the instrument master; not subscribed", symbol)
                    self._unknown.add(symbol)
                continue
            out[symbol] = inst
        instruments = list(out.values())
        if len(instruments) > self._capacity:
            log.error(
                "subscription of %d instruments exceeds the feed's capacity %d; %d left out",
                len(instruments),
                self._capacity,
                len(instruments) - self._capacity,
            )
            instruments = instruments[: self._capacity]
        return instruments


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
