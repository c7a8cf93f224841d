"""Watchlists as a product: create, list, read, rename, add and remove symbols, delete; tenant-owned, plan-limited.

Symbols are checked against the instrument master and stored as its exchange-qualified keys (``NSE:RELIANCE``,
``BSE:RELIANCE``, ``NSE:NIFTY 50``, ``NFO:NIFTY25FEB23000CE``): a bare symbol resolves NSE first, as everywhere.
An unknown symbol is a 422 naming it and its position; the plan's ``watchlists`` (lists per tenant) and
``watchlist_symbols`` (symbols per list) limits are 403s naming the limit; another tenant's list is a 404.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Sequence

from mantra.clock import Clock
from mantra.errors import Conflict, Invalid, LimitExceeded, NotFound
from mantra.market.instruments import instrument_key, split_key
from mantra.ports import PlanRepository
from mantra.watchlists.models import Watchlist
from mantra.watchlists.ports import InstrumentLookup, WatchlistRepository

MAX_NAME = 80
LISTS_LIMIT, SYMBOLS_LIMIT = "watchlists", "watchlist_symbols"
_RETRIES = 3  # a change races another one on the same list: read again and re-apply


class WatchlistService:
    def __init__(
        self,
        watchlists: WatchlistRepository,
        instruments: InstrumentLookup,
        plans: PlanRepository,
        clock: Clock,
    ) -> None:
        self._repo, self._instruments, self._plans, self._clock = watchlists, instruments, plans, clock

    # --- reading ------------------------------------------------------------------------------------------
    def list(self, tenant_id: str) -> list[Watchlist]:
        return self._repo.list(tenant_id)

    def get(self, tenant_id: str, watchlist_id: str) -> Watchlist:
        found = self._repo.get(tenant_id, watchlist_id)
        if found is None:
            raise NotFound(f"watchlist {watchlist_id} not found")
        return found

    # --- writing ------------------------------------------------------------------------------------------
    def create(
        self, tenant_id: str, user_id: str, plan_id: str, name: str, symbols: Sequence[str] = ()
    ) -> Watchlist:
        plan_name, lists_cap, symbols_cap = self._limits(plan_id)
        keys = self._keys(symbols, "symbols")
        if self._repo.count(tenant_id) >= lists_cap:
            raise LimitExceeded(
                f"your {plan_name} plan allows {lists_cap} watchlists (limit {LISTS_LIMIT}); "
                "delete one or upgrade for more"
            )
        self._check_size(plan_name, symbols_cap, len(keys))
        now = self._clock.now_ms()
        watchlist = Watchlist(
            tenant_id=tenant_id,
            watchlist_id="wl_" + secrets.token_hex(8),
            user_id=user_id,
            name=self._name(name),
            symbols=tuple(keys),
            created_ms=now,
            updated_ms=now,
        )
        self._repo.create(watchlist)
        return watchlist

    def rename(self, tenant_id: str, watchlist_id: str, name: str) -> Watchlist:
        new_name = self._name(name)
        return self._change(tenant_id, watchlist_id, lambda w: w.model_copy(update={"name": new_name}))

    def add(self, tenant_id: str, plan_id: str, watchlist_id: str, symbols: Sequence[str]) -> Watchlist:
        """Append symbols not on the list yet (one already there is left where it is)."""
        plan_name, _, symbols_cap = self._limits(plan_id)
        keys = self._keys(symbols, "symbols")

        def apply(w: Watchlist) -> Watchlist:
            merged = tuple(dict.fromkeys((*w.symbols, *keys)))
            self._check_size(plan_name, symbols_cap, len(merged), w.name)
            return w.model_copy(update={"symbols": merged})

        return self._change(tenant_id, watchlist_id, apply)

    def remove(self, tenant_id: str, watchlist_id: str, symbol: str) -> Watchlist:
        key = self._key(symbol, "symbol")

        def apply(w: Watchlist) -> Watchlist:
            if key not in w.symbols:
                raise NotFound(f"{key} is not on watchlist {w.name!r}")
            return w.model_copy(update={"symbols": tuple(s for s in w.symbols if s != key)})

        return self._change(tenant_id, watchlist_id, apply)

    def delete(self, tenant_id: str, watchlist_id: str) -> None:
        if not self._repo.delete(tenant_id, watchlist_id):
            raise NotFound(f"watchlist {watchlist_id} not found")

    # --- helpers ------------------------------------------------------------------------------------------
    def _change(
        self, tenant_id: str, watchlist_id: str, apply: Callable[[Watchlist], Watchlist]
    ) -> Watchlist:
        for _ in range(_RETRIES):
            current = self.get(tenant_id, watchlist_id)
            changed = apply(current)
            if changed == current:
                return current
            now = max(self._clock.now_ms(), current.updated_ms + 1)  # every write moves the version on
            changed = changed.model_copy(update={"updated_ms": now})
            if self._repo.replace(changed, current.updated_ms):
                return changed
        raise Conflict(f"watchlist {watchlist_id} is being changed by another request; try again")

    def _limits(self, plan_id: str) -> tuple[str, int, int]:
        plan = self._plans.get(plan_id)
        if plan is None:
            return plan_id, 0, 0
        return plan.name, plan.limit(LISTS_LIMIT), plan.limit(SYMBOLS_LIMIT)

    @staticmethod
    def _check_size(plan_name: str, cap: int, n: int, name: str | None = None) -> None:
        if n > cap:
            which = f"watchlist {name!r}" if name else "the watchlist"
            raise LimitExceeded(
                f"your {plan_name} plan allows {cap} symbols per watchlist (limit {SYMBOLS_LIMIT}); "
                f"{which} would have {n}"
            )

    @staticmethod
    def _name(name: str) -> str:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise Invalid(f"name: give 1 to {MAX_NAME} characters")
        return name

    def _keys(self, symbols: Sequence[str], where: str) -> builtins.list[str]:
        return list(dict.fromkeys(self._key(s, f"{where}.{n}") for n, s in enumerate(symbols)))

    def _key(self, ref: str, where: str) -> str:
        exchange, symbol = split_key(ref)
        wanted = f"{exchange}:{symbol.upper()}" if exchange else symbol.upper()
        inst = self._instruments.get(wanted) if symbol else None
        if inst is None:
            raise Invalid(
                f"{where}: {ref.strip()!r} is not in the instrument master (give a symbol as the master spells "
                "it, e.g. RELIANCE, BSE:RELIANCE or NIFTY 50; GET /api/instruments?q= searches it)"
            )
        return instrument_key(inst)
