"""Price-level alert rules as sorted arrays: a whole tick batch is evaluated in a few numpy calls.

Every rule becomes a key ``symbol_index * SPAN + level`` in one sorted array per condition. A tick batch
(sorted by symbol, then sequence) becomes, for each condition, one half-open interval of keys per tick:
- crosses above L:  prev < L <= price     -> keys in (prev, price]
- crosses below L:  price <= L < prev     -> mirrored prices, same test
- above L:          running max >= L      -> keys in (max before this tick, max after it]
- below L:          running min <= L      -> mirrored running max
``searchsorted`` finds each interval's rules; the earliest tick covering a rule is the one that fires it.
Cost grows with ticks and with the rules they touch, not with every rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mantra.domain import AlertCondition

SPAN = np.int64(1) << 40  # > any price in paise (Rs 10 billion), so symbols never overlap
PRICE_CONDITIONS = (
    AlertCondition.CROSSES_ABOVE,
    AlertCondition.CROSSES_BELOW,
    AlertCondition.ABOVE,
    AlertCondition.BELOW,
)
_MIRRORED = {AlertCondition.CROSSES_BELOW, AlertCondition.BELOW}
_NONE = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Fired:
    rule: int  # index into the rules the index was built from
    tick: int  # index into the batch's ticks


class _Book:
    """One condition's rules: sorted keys and the rule index behind each."""

    def __init__(self, keys: NDArray[np.int64], rules: NDArray[np.int64]) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys, self.rules = keys[order], rules[order]


class AlertIndex:
    def __init__(
        self,
        symbols: Sequence[str],
        conditions: Sequence[AlertCondition],
        levels_paise: Sequence[int],
    ) -> None:
        self.symbol_ids = {s: i for i, s in enumerate(dict.fromkeys(symbols))}
        sym = np.fromiter((self.symbol_ids[s] for s in symbols), np.int64, len(symbols))
        lvl = np.asarray(levels_paise, dtype=np.int64)
        cond = np.asarray([PRICE_CONDITIONS.index(c) for c in conditions], dtype=np.int64)
        self._books: dict[AlertCondition, _Book] = {}
        for ci, c in enumerate(PRICE_CONDITIONS):
            mask = cond == ci
            level = (SPAN - 1 - lvl[mask]) if c in _MIRRORED else lvl[mask]
            self._books[c] = _Book(sym[mask] * SPAN + level, np.flatnonzero(mask).astype(np.int64))
        self.size = len(symbols)

    def evaluate(
        self,
        tick_symbols: Sequence[str],
        tick_prices: Sequence[int] | NDArray[np.int64],
        prev_price: dict[str, int],
    ) -> list[Fired]:
        """Ticks must be grouped by symbol in sequence order. Each rule fires at most once per batch."""
        rules, ticks = self.evaluate_arrays(tick_symbols, tick_prices, prev_price)
        return [Fired(r, t) for r, t in zip(rules.tolist(), ticks.tolist(), strict=True)]

    def evaluate_arrays(
        self,
        tick_symbols: Sequence[str],
        tick_prices: Sequence[int] | NDArray[np.int64],
        prev_price: dict[str, int],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(rule indices, tick indices) of the rules that fire, ordered by tick then rule."""
        empty = np.empty(0, dtype=np.int64)
        n = len(tick_symbols)
        if n == 0 or self.size == 0:
            return empty, empty
        known = np.fromiter((self.symbol_ids.get(s, -1) for s in tick_symbols), np.int64, n)
        price = np.asarray(tick_prices, dtype=np.int64)
        keep = np.flatnonzero(known >= 0)
        if keep.size == 0:
            return empty, empty
        # ascending symbol ids (stable: sequence order within a symbol) so running extremes never leak
        keep = keep[np.argsort(known[keep], kind="stable")]
        sym, price = known[keep], price[keep]
        first_of_group = np.ones(sym.size, dtype=bool)
        first_of_group[1:] = sym[1:] != sym[:-1]
        # previous price per tick: the stored quote for a symbol's first tick, else the tick before
        names = list(self.symbol_ids)
        stored = np.fromiter((prev_price.get(names[s], -1) for s in sym), np.int64, sym.size)
        prev = np.empty_like(price)
        prev[1:] = price[:-1]
        prev[first_of_group] = stored[first_of_group]

        out_rules: list[NDArray[np.int64]] = []
        out_ticks: list[NDArray[np.int64]] = []
        base = sym * SPAN
        for cond, book in self._books.items():
            if book.keys.size == 0:
                continue
            mirrored = cond in _MIRRORED
            p = (SPAN - 1 - price) if mirrored else price
            if cond in (AlertCondition.CROSSES_ABOVE, AlertCondition.CROSSES_BELOW):
                q = (SPAN - 1 - prev) if mirrored else prev
                valid = prev >= 0
                low, high = base + q, base + p
            else:  # level tests: the running extreme per symbol, starting below everything
                run = np.maximum.accumulate(base + p)
                before = np.empty_like(run)
                before[1:] = run[:-1]
                before[first_of_group] = base[first_of_group] - 1
                valid = np.ones(sym.size, dtype=bool)
                low, high = before, run
            lo = np.searchsorted(book.keys, low, side="right")
            hi = np.searchsorted(book.keys, high, side="right")
            hit = valid & (hi > lo)
            if not hit.any():
                continue
            steps = np.flatnonzero(hit)
            counts = (hi - lo)[steps]
            covered = np.repeat(lo[steps], counts) + (
                np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            )
            first = np.full(book.keys.size, _NONE, dtype=np.int64)
            np.minimum.at(first, covered, np.repeat(steps, counts))
            fired = np.flatnonzero(first != _NONE)
            out_rules.append(book.rules[fired])  # a rule lives in exactly one book
            out_ticks.append(keep[first[fired]])
        if not out_rules:
            return empty, empty
        rules, ticks = np.concatenate(out_rules), np.concatenate(out_ticks)
        order = np.lexsort((rules, ticks))
        return rules[order], ticks[order]
