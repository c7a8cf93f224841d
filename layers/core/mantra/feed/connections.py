"""Changing what open broker sockets stream without tearing them down: the plan of subscribe and unsubscribe
messages per connection, new connections only when the open ones are full, and emptied ones closed.

Pure: the providers (Kite, SmartAPI) apply a ``Rebalance`` to their sockets. Keys are whatever names an
instrument on that broker's wire (Kite's integer instrument token; SmartAPI's (exchange type, token) pair).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Rebalance(Generic[K]):
    """What to send: unsubscribes first (they free room), then subscribes, then new connections, then closes.

    ``unsubscribe`` / ``subscribe`` map an open connection's index to its keys; ``open`` lists the keys of each
    new connection; ``close`` names open connections left with nothing to stream; ``after`` is every
    connection's keys once applied (open ones first, in order, without the closed; then the new ones).
    """

    unsubscribe: dict[int, tuple[K, ...]] = field(default_factory=dict)
    subscribe: dict[int, tuple[K, ...]] = field(default_factory=dict)
    open: tuple[tuple[K, ...], ...] = ()
    close: tuple[int, ...] = ()
    after: tuple[tuple[K, ...], ...] = ()

    @property
    def changes(self) -> int:
        """Messages on open sockets plus connections opened or closed: 0 when nothing changes."""
        return len(self.unsubscribe) + len(self.subscribe) + len(self.open) + len(self.close)


def plan_connections(
    current: Sequence[Sequence[K]], wanted: Sequence[K], per_connection: int, max_connections: int
) -> Rebalance[K]:
    """Move ``current`` (each open connection's keys) to ``wanted``: an instrument that stays keeps its
    connection (no message for it), one that goes is unsubscribed where it is, a new one goes to the first open
    connection with room (one still streaming before one emptied by this change), and only when every open connection is full is a new one opened. Raises ValueError
    when ``wanted`` cannot fit ``max_connections`` connections of ``per_connection`` (the subscription is capped
    to the capacity before it gets here)."""
    if per_connection <= 0 or max_connections <= 0:
        raise ValueError("per_connection and max_connections must be positive")
    want = list(dict.fromkeys(wanted))  # order kept, duplicates dropped
    if len(want) > per_connection * max_connections:
        raise ValueError(
            f"{len(want)} instruments need more than {max_connections} connections of {per_connection}"
        )
    if len(current) > max_connections:
        raise ValueError(f"{len(current)} connections are open; the broker allows {max_connections}")
    wanted_set = set(want)
    kept: list[list[K]] = []
    unsubscribe: dict[int, tuple[K, ...]] = {}
    placed: set[K] = set()
    for n, keys in enumerate(current):
        stay = [k for k in dict.fromkeys(keys) if k in wanted_set and k not in placed]
        gone = tuple(k for k in dict.fromkeys(keys) if k not in wanted_set)
        if gone:
            unsubscribe[n] = gone
        placed.update(stay)
        kept.append(stay)
    new = [k for k in want if k not in placed]
    subscribe: dict[int, list[K]] = {}
    # first fit: the room on connections still streaming, then on emptied ones (kept open only if needed),
    # and a new connection last
    for n in sorted(range(len(kept)), key=lambda n: (not kept[n], n)):
        stay = kept[n]
        room = per_connection - len(stay)
        if room > 0 and new:
            take, new = new[:room], new[room:]
            subscribe[n] = take
            stay.extend(take)
    opened: list[tuple[K, ...]] = []
    while new:
        take, new = new[:per_connection], new[per_connection:]
        opened.append(tuple(take))
    # an emptied connection is closed, unless it would leave none open (a provider keeps one socket)
    close = tuple(n for n, stay in enumerate(kept) if not stay)
    if close and len(close) == len(kept) and not opened:
        close = close[1:]
    after = tuple(tuple(stay) for n, stay in enumerate(kept) if n not in close) + tuple(opened)
    return Rebalance(
        unsubscribe={n: keys for n, keys in unsubscribe.items() if n not in close},
        subscribe={n: tuple(keys) for n, keys in subscribe.items()},
        open=tuple(opened),
        close=close,
        after=after,
    )
